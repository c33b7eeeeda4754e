/**
 * VMSAv8-64 descriptor bits (Arm ARM DDI 0487, D8.3), as the low and high
 * 32-bit words of the 64-bit descriptor. Bits 63:32 are the high word: bit
 * 51 is high-word bit 19.
 */

/** Bit 0: valid. */
export const ARMV8PT_FMT_VALID = 1 << 0;
/** Bit 1: a table descriptor above ARM level 3; a page descriptor at ARM level 3 (genpt level 0). */
export const ARMV8PT_FMT_TABLE = 1 << 1;
export const ARMV8PT_FMT_PAGE = 1 << 1;
/** Stage 1 bits 4:2: the MAIR index (AttrIndx). */
export const ARMV8PT_FMT_ATTRINDX_SHIFT = 2;
/** Bit 5: NS (stage 1 leaves, with ARMV8_NS). */
export const ARMV8PT_FMT_NS = 1 << 5;
/** Stage 1 bits 7:6: AP[2:1]; AP[2] (bit 7) is read-only, AP[1] (bit 6) unprivileged access. */
export const ARMV8PT_FMT_AP_SHIFT = 6;
export const ARMV8PT_AP_UNPRIV = 1;
export const ARMV8PT_AP_RDONLY = 2;
/** Stage 2 bits 5:2 (MemAttr) and 7:6 (S2AP: bit 6 read, bit 7 write). */
export const ARMV8PT_FMT_S2MEMATTR_SHIFT = 2;
export const ARMV8PT_FMT_S2AP_SHIFT = 6;
export const ARMV8PT_S2AP_READ = 1;
export const ARMV8PT_S2AP_WRITE = 2;
/** Bits 9:8: shareability (not with LPA2, where they are OA[51:50]). */
export const ARMV8PT_FMT_SH_SHIFT = 8;
export const ARMV8PT_SH_IS = 3;
export const ARMV8PT_SH_OS = 2;
/** Bit 10: access flag. */
export const ARMV8PT_FMT_AF = 1 << 10;
/** Bit 11: not global (stage 1). */
export const ARMV8PT_FMT_NG = 1 << 11;
/** Bits 15:12 with a 64 KiB granule and LPA: OA[51:48]. */
export const ARMV8PT_FMT_OA52_LPA_SHIFT = 12;
/** Bits 9:8 with LPA2: OA[51:50]. */
export const ARMV8PT_FMT_OA52_LPA2_SHIFT = 8;

/** High word: bit 51 DBM. */
export const ARMV8PT_FMT_DBM_HI = 1 << (51 - 32);
/** High word: bit 52 the contiguous hint. */
export const ARMV8PT_FMT_CONTIG_HI = 1 << (52 - 32);
/** High word: bit 53, named UXN after the header (the Arm ARM's PXN at stage 1 EL1&0; XN[0] at stage 2 with FEAT_XNX). */
export const ARMV8PT_FMT_UXN_HI = 1 << (53 - 32);
/** High word: bit 54, named PXN after the header (the Arm ARM's UXN, or XN, at stage 1; XN[1] at stage 2). */
export const ARMV8PT_FMT_PXN_HI = 1 << (54 - 32);
/** High word: bit 63 NSTable (table descriptors, with ARMV8_NS). */
export const ARMV8PT_FMT_NSTABLE_HI = 1 << 31;

/** MAIR indexes the stage 1 AttrIndx uses, and the MAIR value holding them. */
export const ARMV8PT_MAIR_ATTR_IDX_NC = 0;
export const ARMV8PT_MAIR_ATTR_IDX_CACHE = 1;
export const ARMV8PT_MAIR_ATTR_IDX_DEV = 2;
export const ARMV8PT_MAIR_ATTR_IDX_INC_OCACHE = 3;
/** Normal non-cacheable (0x44), write-back RW-allocate (0xff), Device-nGnRE (0x04), inner NC / outer WB (0xf4). */
export const ARMV8PT_MAIR = 0xf404ff44;

/** Stage 2 MemAttr: FWB forced write-back, outer/inner write-back, non-cacheable, device. */
export const ARMV8PT_MEMATTR_FWB_WB = 6;
export const ARMV8PT_MEMATTR_OIWB = 0xf;
export const ARMV8PT_MEMATTR_NC = 5;
export const ARMV8PT_MEMATTR_DEV = 1;

/** PT_FEAT_ARMV8_TTBR1: the upper VA range (TTBR1; VAs from 2^64 - 2^vasz up). Stage 1 only. */
export const PT_FEAT_ARMV8_TTBR1 = 6;
/** PT_FEAT_ARMV8_LPA: 52-bit OA with the 64 KiB granule (OA[51:48] in bits 15:12). */
export const PT_FEAT_ARMV8_LPA = 7;
/** PT_FEAT_ARMV8_S2: a stage 2 table (S2AP, MemAttr; concatenated top tables). */
export const PT_FEAT_ARMV8_S2 = 8;
/** PT_FEAT_ARMV8_DBM: hardware dirty state via DBM (writable leaves start dirty). */
export const PT_FEAT_ARMV8_DBM = 9;
/** PT_FEAT_ARMV8_S2FWB: stage 2 forced write-back MemAttr encoding. */
export const PT_FEAT_ARMV8_S2FWB = 10;
/** PT_FEAT_ARMV8_NS: non-secure leaves (NS) and tables (NSTable). */
export const PT_FEAT_ARMV8_NS = 11;
/** PT_FEAT_ARMV8_LPA2: 52-bit OA and VA with the 4 and 16 KiB granules (DS=1; OA[51:50] in bits 9:8). */
export const PT_FEAT_ARMV8_LPA2 = 12;
/** PT_FEAT_ARMV8_LVA: 52-bit VA with the 64 KiB granule (stage 1). */
export const PT_FEAT_ARMV8_LVA = 13;
