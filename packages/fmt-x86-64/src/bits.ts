/**
 * x86 64-bit paging entry bits (Intel SDM "4-Level Paging and 5-Level
 * Paging"; AMD IOMMU "I/O Page Tables for Guest Translations"), as the low
 * and high 32-bit words of the 64-bit entry.
 */

/** Bit 0: present. */
export const X86_64_FMT_P = 1 << 0;
/** Bit 1: writable. */
export const X86_64_FMT_RW = 1 << 1;
/** Bit 2: user. */
export const X86_64_FMT_U = 1 << 2;
/** Bit 5: accessed. */
export const X86_64_FMT_A = 1 << 5;
/** Bit 6: dirty. */
export const X86_64_FMT_D = 1 << 6;
/** Bit 7: page size (a leaf at levels 1 and 2). */
export const X86_64_FMT_PS = 1 << 7;
/** Bits 51:12, the address: low word bits 31:12, high word bits 19:0. */
export const X86_64_FMT_OA_LO = 0xfffff000 | 0;
export const X86_64_FMT_OA_HI = 0x000fffff;
/** Bit 63 (high word bit 31): execute disable. */
export const X86_64_FMT_XD_HI = 1 << 31;

/** PT_FEAT_X86_64_AMD_ENCRYPT_TABLES: SME C-bit on table pointers (and leaves unless MMIO). */
export const PT_FEAT_X86_64_AMD_ENCRYPT_TABLES = 6;
