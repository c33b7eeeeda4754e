/**
 * Apple DART page table entry bits, as the low and high 32-bit words of the
 * 64-bit entry. Bit 0 is valid in every entry; leaves sit at level 0 only.
 * DART v1 (4 KiB granule, 36-bit OA) and v2 (16 KiB granule, 42-bit OA)
 * place the address and the protection bits differently.
 */

/** Bit 0: the entry is valid (a table pointer above level 0, a page at level 0). */
export const DART_FMT_VALID = 1 << 0;
/**
 * Bits 63:52 and 51:40 of a leaf: the first and last 4 KiB sub-page the page
 * allows (sub-page protection). Every leaf allows its whole page: start 0,
 * end 0xfff, which is bits 51:40 all set (high word bits 19:8).
 */
export const DART_FMT_SUBPAGE_END_HI = 0xfff << 8;

/** v1 bit 1: sub-page protection disabled (set on every v1 leaf). */
export const DART_FMT1_PROT_SP_DIS = 1 << 1;
/** v1 bit 7: no write. */
export const DART_FMT1_PROT_NO_WRITE = 1 << 7;
/** v1 bit 8: no read. */
export const DART_FMT1_PROT_NO_READ = 1 << 8;
/** v1 bits 35:12, the address itself: low word bits 31:12, high word bits 3:0. */
export const DART_FMT1_OA_LO = 0xfffff000 | 0;
export const DART_FMT1_OA_HI = 0xf;

/** v2 bit 1: not cacheable (set unless IOMMU_CACHE). */
export const DART_FMT2_PROT_NO_CACHE = 1 << 1;
/** v2 bit 2: no write. */
export const DART_FMT2_PROT_NO_WRITE = 1 << 2;
/** v2 bit 3: no read. */
export const DART_FMT2_PROT_NO_READ = 1 << 3;
/** v2 bits 37:10 hold the address divided by 16 KiB: low word bits 31:10, high word bits 5:0. */
export const DART_FMT2_OA_LO = 0xfffffc00 | 0;
export const DART_FMT2_OA_HI = 0x3f;

/** PT_FEAT_DART_V2: the v2 entry layout (16 KiB granule, 42-bit OA). */
export const PT_FEAT_DART_V2 = 6;

/** TTBRs a DART stream has: the most entries the top (level 2) table may hold. */
export const DART_NUM_TTBRS = 4;
