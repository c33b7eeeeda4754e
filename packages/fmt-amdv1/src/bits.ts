/**
 * AMD IOMMU v1 page table entry bits ("I/O Page Tables for Host
 * Translations" in the AMD IOMMU specification), split into the low and high
 * 32-bit words of the 64-bit entry.
 */

/** Bit 0, low word: present. */
export const AMDV1PT_FMT_PR = 1 << 0;
/** Bit 5, low word: accessed (hardware, with DTE HAD). */
export const AMDV1PT_FMT_A = 1 << 5;
/** Bit 6, low word: dirty (hardware, with DTE HAD = 11b). */
export const AMDV1PT_FMT_D = 1 << 6;
/** Bits 11:9, low word: Next Level. */
export const AMDV1PT_FMT_NEXT_LEVEL_SHIFT = 9;
export const AMDV1PT_FMT_NEXT_LEVEL_MASK = 7;
/** Next Level 0: a leaf of the item size. */
export const AMDV1PT_FMT_NL_DEFAULT = 0;
/** Next Level 7: a leaf whose size is encoded as a run of ones at address bit 12. */
export const AMDV1PT_FMT_NL_SIZE = 7;
/** Bits 51:12: the address field, low word part (bits 31:12) and high word part (bits 51:32). */
export const AMDV1PT_FMT_OA_LO = 0xfffff000 | 0;
export const AMDV1PT_FMT_OA_HI = 0x000fffff;
/** Bit 59 (high word bit 27): U, defined by the spec, never set by Linux. */
export const AMDV1PT_FMT_U_HI = 1 << 27;
/** Bit 60 (high word bit 28): force coherent. */
export const AMDV1PT_FMT_FC_HI = 1 << 28;
/** Bit 61 (high word bit 29): read permission. */
export const AMDV1PT_FMT_IR_HI = 1 << 29;
/** Bit 62 (high word bit 30): write permission. */
export const AMDV1PT_FMT_IW_HI = 1 << 30;

/** PT_FEAT_AMDV1_ENCRYPT_TABLES: set the SME C-bit in table pointers (and leaves unless MMIO). */
export const PT_FEAT_AMDV1_ENCRYPT_TABLES = 6;
/** PT_FEAT_AMDV1_FORCE_COHERENCE: set FC in every leaf. */
export const PT_FEAT_AMDV1_FORCE_COHERENCE = 7;
