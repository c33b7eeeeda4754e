/**
 * Intel VT-d second-stage paging entry bits (VT-d specification, "Second-Stage
 * Paging Entries"), as the low and high 32-bit words of the 64-bit entry.
 * There is no present bit: an item is empty exactly when it is zero, and a
 * non-empty leaf always carries R or W.
 */

/** Bit 0: read permission. */
export const VTDSS_FMT_R = 1 << 0;
/** Bit 1: write permission. */
export const VTDSS_FMT_W = 1 << 1;
/** Bit 7: page size (a leaf at the SS-PDE and SS-PDPTE levels, 1 and 2). */
export const VTDSS_FMT_PS = 1 << 7;
/** Bit 8: accessed (hardware). */
export const VTDSS_FMT_A = 1 << 8;
/** Bit 9: dirty (hardware, with second-stage A/D enabled). */
export const VTDSS_FMT_D = 1 << 9;
/** Bit 11: snoop; set on every leaf with VTDSS_FORCE_COHERENCE. */
export const VTDSS_FMT_SNP = 1 << 11;
/** Bits 51:12, the address: low word bits 31:12, high word bits 19:0. */
export const VTDSS_FMT_OA_LO = 0xfffff000 | 0;
export const VTDSS_FMT_OA_HI = 0x000fffff;

/** PT_FEAT_VTDSS_FORCE_COHERENCE: set SNP in every leaf (the DMA always snoops). */
export const PT_FEAT_VTDSS_FORCE_COHERENCE = 6;
/** PT_FEAT_VTDSS_FORCE_WRITEABLE: refuse read-only leaves (hardware erratum ERRATA_772415_SPR17). */
export const PT_FEAT_VTDSS_FORCE_WRITEABLE = 7;
