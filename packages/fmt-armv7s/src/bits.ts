/**
 * ARMv7 short-descriptor (VMSAv7 / VMSAv8-32) bits as Linux's
 * io-pgtable-arm-v7s writes them. Each item is one 32-bit word. genpt's
 * level 1 is the architecture's first level (4096 items of 1 MiB: table
 * pointers, sections, 16-item supersections); level 0 its second level
 * (256 items of 4 KiB: small pages and 16-item large pages).
 */

/** Bits 1:0 of every item: 0 is invalid. */
export const ARMV7S_TYPE_MASK = 0x3;
/** Level 1 type 0b01: a pointer to a second-level table. */
export const ARMV7S_L1_TYPE_TABLE = 0x1;
/** Level 1 type 0b10: a section (or, with bit 18, a supersection). */
export const ARMV7S_L1_TYPE_SECTION = 0x2;
/** Level 0 bit 1: a small page (4 KiB); clear with bit 0 set: a large page (64 KiB). */
export const ARMV7S_L0_SMALL_PAGE = 0x2;
export const ARMV7S_L0_TYPE_LARGE = 0x1;

/** Level 1 table pointer: the table's address, bits 31:10 (1 KiB aligned). */
export const ARMV7S_L1_TABLE_ADDR = 0xfffffc00 | 0;
/** Level 1 table pointer bit 3: the lower table is in the non-secure space. */
export const ARMV7S_L1_TABLE_NS = 1 << 3;

/** Section: OA bits 31:20; supersection: OA bits 31:24. */
export const ARMV7S_SECTION_OA = 0xfff00000 | 0;
export const ARMV7S_SUPERSECTION_OA = 0xff000000 | 0;
/** Level 1 bit 18: the section is one of the 16 items of a supersection. */
export const ARMV7S_SUPERSECTION = 1 << 18;
/** Level 1 bit 19: non-secure section (IO_PGTABLE_QUIRK_ARM_NS). */
export const ARMV7S_SECTION_NS = 1 << 19;
/** Level 1 bit 4: execute-never of a section. */
export const ARMV7S_SECTION_XN = 1 << 4;

/** Small page: OA bits 31:12; large page: OA bits 31:16. */
export const ARMV7S_SMALL_OA = 0xfffff000 | 0;
export const ARMV7S_LARGE_OA = 0xffff0000 | 0;
/** Small page bit 0 / large page bit 15: execute-never. */
export const ARMV7S_SMALL_XN = 1 << 0;
export const ARMV7S_LARGE_XN = 1 << 15;
/** TEX[2:0]: small page bits 8:6, large page bits 14:12. */
export const ARMV7S_SMALL_TEX = 0x7 << 6;
export const ARMV7S_LARGE_TEX = 0x7 << 12;

/** B (bit 2) and C (bit 3): the memory type, at both levels. */
export const ARMV7S_B = 1 << 2;
export const ARMV7S_C = 1 << 3;

/**
 * The attribute block, in the same order at both levels (bits 17:10 of a
 * section, 11:4 of a page): AP[0] (used as the access flag), AP[1]
 * (unprivileged), TEX[0..2], AP[2] (read-only), S, nG.
 */
export const ARMV7S_ATTR_AP0 = 1 << 0;
export const ARMV7S_ATTR_AP1 = 1 << 1;
export const ARMV7S_ATTR_TEX0 = 1 << 2;
export const ARMV7S_ATTR_AP2 = 1 << 5;
export const ARMV7S_ATTR_S = 1 << 6;
export const ARMV7S_ATTR_NG = 1 << 7;
/** Where the attribute block sits: bit 10 of a section, bit 4 of a page. */
export const ARMV7S_ATTR_SHIFT_L1 = 10;
export const ARMV7S_ATTR_SHIFT_L0 = 4;

/**
 * MediaTek's OA extension (IO_PGTABLE_QUIRK_ARM_MTK_EXT): OA bits 32, 33
 * and 34 in item bits 9, 4 and 5, at every level (which is why it needs
 * NO_PERMS: at level 0 those are AP bits).
 */
export const ARMV7S_MTK_PA_BIT32 = 1 << 9;
export const ARMV7S_MTK_PA_BIT33 = 1 << 4;
export const ARMV7S_MTK_PA_BIT34 = 1 << 5;
export const ARMV7S_MTK_PA_BITS = ARMV7S_MTK_PA_BIT32 | ARMV7S_MTK_PA_BIT33 | ARMV7S_MTK_PA_BIT34;

/** Items of a large page or a supersection: one descriptor repeated 16 times. */
export const ARMV7S_CONT_LG2 = 4;

/*
 * Features, from PT_FEAT_FMT_START (6) up. TTBR1 and NS are the iommupt
 * development line's (fmt/armv7s.h); MTK_EXT and NO_PERMS are
 * io-pgtable-arm-v7s's quirks of those names.
 */
/** The table translates the top of the IOVA space (a full-VA prefix of ones), as the development line defines TTBR1. */
export const PT_FEAT_ARMV7S_TTBR1 = 6;
/** Non-secure: NS in every section and table pointer (IO_PGTABLE_QUIRK_ARM_NS). */
export const PT_FEAT_ARMV7S_NS = 7;
/** MediaTek's 34-bit OA (up to 35 bits) and up to 34-bit IOVA (IO_PGTABLE_QUIRK_ARM_MTK_EXT); needs NO_PERMS. */
export const PT_FEAT_ARMV7S_MTK_EXT = 8;
/** No access permission bits: no AF, AP or XN (IO_PGTABLE_QUIRK_NO_PERMS). */
export const PT_FEAT_ARMV7S_NO_PERMS = 9;

/** The TEX-remap registers io-pgtable-arm-v7s programs (indexes 1 device, 4 and 7 normal; 7 write-back). */
export const ARMV7S_PRRR = 0x800b8204;
export const ARMV7S_NMRR = 0x40004000;
/**
 * TTBR attributes of a coherent walk: S (bit 1), NOS (bit 5), IRGN
 * write-back write-allocate (bit 6) and ORGN write-back write-allocate (bit 3).
 */
export const ARMV7S_TTBR_COHERENT = 0x6a;
