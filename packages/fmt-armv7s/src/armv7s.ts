/**
 * The ARMv7 short-descriptor page table (the iommupt development line's
 * fmt/armv7s.h layout, with the bits Linux's io-pgtable-arm-v7s writes
 * today): 32-bit items, a first-level table at level 1 (4096 items of 1 MiB
 * for a 32-bit IOVA) and 1 KiB second-level tables at level 0 (256 items of
 * 4 KiB). Large pages (64 KiB) and supersections (16 MiB) are one
 * descriptor repeated over 16 items, each holding the entry's own base OA.
 *
 * The attributes come in three encodings (section, small page, large page)
 * of one attribute block; a map's PtWriteAttrs carries the section encoding
 * in descriptorLo and the small page one in descriptorHi, and the large page
 * one is derived from the latter at install.
 */
import {
  bit,
  Errno,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_WRITE,
  numberHi,
  numberLo,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtFormatDefaults,
  ptCheckInstallLeafArgs,
  ptClearItems32,
  ptTableInstall32,
  type PtCommon,
  type PtEntryType,
  type PtRange,
  type PtState,
  type PtWriteAttrs,
  type U64Pair,
} from '@genpt/pt-core';
import {
  ARMV7S_ATTR_AP0,
  ARMV7S_ATTR_AP1,
  ARMV7S_ATTR_AP2,
  ARMV7S_ATTR_NG,
  ARMV7S_ATTR_S,
  ARMV7S_ATTR_SHIFT_L0,
  ARMV7S_ATTR_SHIFT_L1,
  ARMV7S_ATTR_TEX0,
  ARMV7S_B,
  ARMV7S_C,
  ARMV7S_CONT_LG2,
  ARMV7S_L0_SMALL_PAGE,
  ARMV7S_L0_TYPE_LARGE,
  ARMV7S_L1_TABLE_ADDR,
  ARMV7S_L1_TABLE_NS,
  ARMV7S_L1_TYPE_SECTION,
  ARMV7S_L1_TYPE_TABLE,
  ARMV7S_LARGE_OA,
  ARMV7S_LARGE_TEX,
  ARMV7S_LARGE_XN,
  ARMV7S_MTK_PA_BIT32,
  ARMV7S_MTK_PA_BIT33,
  ARMV7S_MTK_PA_BIT34,
  ARMV7S_MTK_PA_BITS,
  ARMV7S_NMRR,
  ARMV7S_PRRR,
  ARMV7S_SECTION_NS,
  ARMV7S_SECTION_OA,
  ARMV7S_SECTION_XN,
  ARMV7S_SMALL_OA,
  ARMV7S_SMALL_TEX,
  ARMV7S_SMALL_XN,
  ARMV7S_SUPERSECTION,
  ARMV7S_SUPERSECTION_OA,
  ARMV7S_TTBR_COHERENT,
  ARMV7S_TYPE_MASK,
  PT_FEAT_ARMV7S_MTK_EXT,
  PT_FEAT_ARMV7S_NO_PERMS,
  PT_FEAT_ARMV7S_NS,
  PT_FEAT_ARMV7S_TTBR1,
} from './bits.js';
import type { Armv7sCfg, Armv7sHwInfo } from './types.js';

/** The page sizes the format has: 4 KiB, 64 KiB, 1 MiB, 16 MiB. */
const ARMV7S_PGSIZES = 0x1000 | 0x10000 | 0x100000 | 0x1000000;

/*
 * PtCommon.fmtFlags: which page sizes the config allows (bit per size),
 * and whether the OA extension is on (read on every install).
 */
const FLAG_4K = 1 << 0;
const FLAG_64K = 1 << 1;
const FLAG_1M = 1 << 2;
const FLAG_16M = 1 << 3;
const FLAG_MTK = 1 << 4;

/** Section attribute bits (everything but type, OA and the supersection bit). */
const SECTION_ATTRS = ARMV7S_B | ARMV7S_C | ARMV7S_SECTION_XN | (0xff << ARMV7S_ATTR_SHIFT_L1) | ARMV7S_SECTION_NS;
/** Small page attribute bits (everything but type and OA). */
const SMALL_ATTRS = ARMV7S_SMALL_XN | ARMV7S_B | ARMV7S_C | (0xff << ARMV7S_ATTR_SHIFT_L0);

/** OA bits 34:32 (the high word) as MediaTek's item bits 9, 4 and 5. */
function mtkBits(oaHi: number): number {
  return ((oaHi & 1) << 9) | ((oaHi & 2) << 3) | ((oaHi & 4) << 3);
}

/** Item bits 9, 4 and 5 as OA bits 34:32 (the high word). */
function mtkOaHi(v: number): number {
  return ((v & ARMV7S_MTK_PA_BIT32) >>> 9) | ((v & ARMV7S_MTK_PA_BIT33) >>> 3) | ((v & ARMV7S_MTK_PA_BIT34) >>> 3);
}

/** A small page descriptor's attributes in the large page encoding (XN to bit 15, TEX to 14:12, type 0b01). */
function largeFromSmall(small: number): number {
  const xn = small & ARMV7S_SMALL_XN;
  const tex = small & ARMV7S_SMALL_TEX;
  return (small ^ (xn | tex | ARMV7S_L0_SMALL_PAGE)) | (xn << 15) | (tex << 6) | ARMV7S_L0_TYPE_LARGE;
}

/** The inverse: a large page's attributes in the small page encoding. */
function smallFromLarge(large: number): number {
  const xn = large & ARMV7S_LARGE_XN;
  const tex = large & ARMV7S_LARGE_TEX;
  return ((large ^ (xn | tex | ARMV7S_L0_TYPE_LARGE)) | (xn >>> 15) | (tex >>> 6) | ARMV7S_L0_SMALL_PAGE) & (SMALL_ATTRS | 3);
}

export class Armv7sFormat extends PtFormatDefaults<Armv7sCfg, Armv7sHwInfo> {
  readonly name = 'armv7s';
  override readonly itemWordSize = 4;
  /** MediaTek's extension reaches 35 bits (maxOaLg2 narrows it per config). */
  readonly maxOutputAddressLg2 = 35;
  /** 32 bits; 34 with MediaTek's extension (a 64 KiB first-level table). */
  readonly maxVaAddressLg2 = 34;
  readonly maxTopLevel = 1;
  readonly granuleLg2sz = 12;
  /** A second-level table: 256 items of 4 bytes. */
  readonly tablememLg2sz = 10;
  /** TTBR0 holds bits 31:7 (the alignment of the smallest first-level table). */
  readonly topPhysMask = 0xffffff80n;
  /** Table pointers and the TTBR hold 32 address bits: table memory from 1 GiB, below 4 GiB. */
  readonly tableMemoryBasePa = 2 ** 30;
  readonly tablePaLg2 = 32;
  readonly supportedFeatures =
    bit(PT_FEAT_ARMV7S_TTBR1) | bit(PT_FEAT_ARMV7S_NS) | bit(PT_FEAT_ARMV7S_MTK_EXT) | bit(PT_FEAT_ARMV7S_NO_PERMS);
  override readonly featureNames = ['ARMV7S_TTBR1', 'ARMV7S_NS', 'ARMV7S_MTK_EXT', 'ARMV7S_NO_PERMS'] as const;

  loadEntryRaw(pts: PtState): PtEntryType {
    const v = pts.words[pts.base + pts.index]!;
    pts.entryLo = v;
    pts.entryHi = 0;
    const type = v & ARMV7S_TYPE_MASK;
    if (type === 0) return PT_ENTRY_EMPTY;
    // Level 1 type 0b11 is a section with PXN: a leaf, as io-pgtable reads it.
    return pts.level === 1 && type === ARMV7S_L1_TYPE_TABLE ? PT_ENTRY_TABLE : PT_ENTRY_OA;
  }

  tablePa(pts: PtState): number {
    return (pts.entryLo & ARMV7S_L1_TABLE_ADDR) >>> 0;
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    const v = pts.entryLo;
    let mask: number;
    if (pts.level === 0) mask = v & ARMV7S_L0_SMALL_PAGE ? ARMV7S_SMALL_OA : ARMV7S_LARGE_OA;
    else mask = v & ARMV7S_SUPERSECTION ? ARMV7S_SUPERSECTION_OA : ARMV7S_SECTION_OA;
    out.set(pts.range.common.fmtFlags & FLAG_MTK ? mtkOaHi(v) : 0, v & mask);
  }

  /** Every item of a contiguous entry holds the entry's base: add the item's place in it. */
  override itemOa(pts: PtState, out: U64Pair): void {
    this.entryOa(pts, out);
    const n = this.entryNumContigLg2(pts);
    if (n === 0) return;
    const isz = pts.level === 0 ? 12 : 20;
    out.lo = out.lo | ((pts.index & ((1 << n) - 1)) << isz);
  }

  canHaveLeaf(_pts: PtState): boolean {
    return true;
  }

  numItemsLg2(pts: PtState): number {
    // The top's items come from the VA width (ias - 20); 12 is a 32-bit IOVA's.
    return pts.level === 0 ? 8 : 12;
  }

  override entryNumContigLg2(pts: PtState): number {
    const v = pts.entryLo;
    if (pts.level === 0) return v & ARMV7S_L0_SMALL_PAGE ? 0 : ARMV7S_CONT_LG2;
    return v & ARMV7S_SUPERSECTION ? ARMV7S_CONT_LG2 : 0;
  }

  override contigCountLg2(_pts: PtState): number {
    return ARMV7S_CONT_LG2;
  }

  /** The level's single and 16-item sizes, as far as the config's page sizes allow. */
  override possibleSizes(pts: PtState, out: U64Pair): void {
    const f = pts.range.common.fmtFlags;
    if (pts.level === 0) out.set(0, (f & FLAG_4K ? 0x1000 : 0) | (f & FLAG_64K ? 0x10000 : 0));
    else out.set(0, (f & FLAG_1M ? 0x100000 : 0) | (f & FLAG_16M ? 0x1000000 : 0));
  }

  /** The single-page paths need 4 KiB small pages. */
  override hasSystemPageSize(common: PtCommon): boolean {
    return (common.fmtFlags & FLAG_4K) !== 0;
  }

  override maxOaLg2(common: PtCommon): number {
    return common.feature(PT_FEAT_ARMV7S_MTK_EXT) ? 35 : 32;
  }

  override fullVaPrefix(common: PtCommon): number {
    return common.feature(PT_FEAT_ARMV7S_TTBR1) ? -1 : 0;
  }

  override clearEntries(pts: PtState, numContigLg2: number): void {
    ptClearItems32(pts.range.common, pts.base + pts.index, 1 << numContigLg2);
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    const common = pts.range.common;
    if (common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    let v: number;
    if (pts.level === 0) {
      v = oaszLg2 === 12 ? (oaLo & ARMV7S_SMALL_OA) | attrs.descriptorHi : (oaLo & ARMV7S_LARGE_OA) | largeFromSmall(attrs.descriptorHi);
    } else {
      v = (oaLo & ARMV7S_SECTION_OA) | attrs.descriptorLo;
      if (oaszLg2 === 24) v |= ARMV7S_SUPERSECTION;
    }
    if (common.fmtFlags & FLAG_MTK) v |= mtkBits(oaHi);
    const words = pts.words;
    const w = pts.base + pts.index;
    if (oaszLg2 === 12 || oaszLg2 === 20) words[w] = v;
    else for (let i = 0; i < 16; i++) words[w + i] = v;
    pts.entryLo = v;
    pts.entryHi = 0;
  }

  /** One section or small page per item: the per-entry default's result in one loop. */
  override installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    const common = pts.range.common;
    if (count !== 0 && common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    const words = pts.words;
    const first = pts.base + pts.index;
    // The OA stays below 2^32 inside one table except with MTK_EXT: keep its high bits per item then.
    const mtk = (common.fmtFlags & FLAG_MTK) !== 0;
    const flags = oaszLg2 === 12 ? attrs.descriptorHi : attrs.descriptorLo;
    const size = 2 ** oaszLg2;
    let oa = oaHi * 4294967296 + (oaLo >>> 0);
    let w = first;
    for (const end = first + count; w < end; w++, oa += size) {
      if (words[w]! & ARMV7S_TYPE_MASK) break;
      words[w] = numberLo(oa) | flags | (mtk ? mtkBits(numberHi(oa)) : 0);
    }
    if (w !== first) {
      pts.entryLo = words[w - 1]!;
      pts.entryHi = 0;
    } else if (count !== 0) {
      pts.entryLo = words[w]!;
      pts.entryHi = 0;
    }
    return w - first;
  }

  /**
   * The per-entry default in one scan (whole entries: 16 items for a large
   * page or a supersection) and one clear of the span.
   */
  override clearLeafRun(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    const start = pts.index;
    const level1 = pts.level === 1;
    let i = start;
    let v = pts.entryLo;
    for (;;) {
      i += level1 ? (v & ARMV7S_SUPERSECTION ? 16 : 1) : v & ARMV7S_L0_SMALL_PAGE ? 1 : 16;
      if (i >= endIndex) break;
      const next = words[base + i]!;
      // A leaf: any type at level 0; a section (0b1x) at level 1.
      if (level1 ? (next & ARMV7S_L1_TYPE_SECTION) === 0 : (next & ARMV7S_TYPE_MASK) === 0) break;
      v = next;
    }
    ptClearItems32(pts.range.common, base + start, i - start);
    pts.index = i;
    if (i < endIndex) pts.type = this.loadEntryRaw(pts);
    else pts.entryLo = v;
    return i - start;
  }

  override findNonEmpty(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    let w = base + pts.index;
    const stop = base + endIndex;
    while (w < stop && (words[w]! & ARMV7S_TYPE_MASK) === 0) w++;
    return w - base;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    let v = (tablePa & ARMV7S_L1_TABLE_ADDR) | ARMV7S_L1_TYPE_TABLE;
    if (pts.range.common.feature(PT_FEAT_ARMV7S_NS)) v |= ARMV7S_L1_TABLE_NS;
    return ptTableInstall32(pts, v);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    const common = pts.range.common;
    const oaBits = common.fmtFlags & FLAG_MTK ? ARMV7S_MTK_PA_BITS : 0;
    const v = pts.entryLo;
    let small: number;
    let section: number;
    if (pts.level === 0) {
      small = (v & ARMV7S_L0_SMALL_PAGE ? v & (SMALL_ATTRS | 3) : smallFromLarge(v)) & ~oaBits;
      section = sectionFromSmall(small, common);
    } else {
      section = ((v & SECTION_ATTRS) | ARMV7S_L1_TYPE_SECTION) & ~oaBits;
      small = smallFromSection(section);
    }
    attrs.set(small, section);
  }

  /** arm_v7s_prot_to_pte() for both levels: section attrs in descriptorLo, small page attrs in descriptorHi. */
  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    const ap = !common.feature(PT_FEAT_ARMV7S_NO_PERMS);
    let block = ARMV7S_ATTR_NG | ARMV7S_ATTR_S;
    if (!(prot & IOMMU_MMIO)) block |= ARMV7S_ATTR_TEX0;
    if (ap) {
      block |= ARMV7S_ATTR_AP0;
      if (!(prot & IOMMU_PRIV)) block |= ARMV7S_ATTR_AP1;
      if (!(prot & IOMMU_WRITE)) block |= ARMV7S_ATTR_AP2;
    }
    let mem = 0;
    if (prot & IOMMU_MMIO) mem = ARMV7S_B;
    else if (prot & IOMMU_CACHE) mem = ARMV7S_B | ARMV7S_C;
    const xn = (prot & IOMMU_NOEXEC) !== 0 && ap;
    let section = (block << ARMV7S_ATTR_SHIFT_L1) | mem | ARMV7S_L1_TYPE_SECTION | (xn ? ARMV7S_SECTION_XN : 0);
    if (common.feature(PT_FEAT_ARMV7S_NS)) section |= ARMV7S_SECTION_NS;
    const small = (block << ARMV7S_ATTR_SHIFT_L0) | mem | ARMV7S_L0_SMALL_PAGE | (xn ? ARMV7S_SMALL_XN : 0);
    attrs.set(small, section);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: Armv7sCfg): number {
    const mtk = common.feature(PT_FEAT_ARMV7S_MTK_EXT);
    // As io-pgtable-arm-v7s: MediaTek's OA bits take the AP bits' places.
    if (mtk && !common.feature(PT_FEAT_ARMV7S_NO_PERMS)) return -Errno.EINVAL;
    const vasz = cfg.hwMaxVaszLg2;
    if (vasz > (mtk ? 34 : 32) || vasz <= 20) return -Errno.EINVAL;
    const bitmap = cfg.pgsizeBitmap ?? ARMV7S_PGSIZES;
    if (!Number.isSafeInteger(bitmap) || bitmap < 0) return -Errno.EINVAL;
    const has = (size: number) => Math.floor(bitmap / size) % 2 === 1;
    let flags = (has(0x1000) ? FLAG_4K : 0) | (has(0x10000) ? FLAG_64K : 0);
    flags |= (has(0x100000) ? FLAG_1M : 0) | (has(0x1000000) ? FLAG_16M : 0);
    if (flags === 0) return -Errno.EINVAL;
    // Table pointers and TTBR hold 32 address bits (no MTK_TTBR_EXT): tables must sit below 4 GiB.
    if (common.mem.endPa > 2 ** 32) return -Errno.EINVAL;
    common.fmtFlags = flags | (mtk ? FLAG_MTK : 0);
    common.topSetLevel(1);
    return 0;
  }

  override iommuFmtHwInfo(common: PtCommon, topRange: PtRange): Armv7sHwInfo {
    const top = topRange.topTable;
    // MediaTek's TTBR carries the table's bits above 32 (always 0 here); otherwise the coherent walk attributes.
    const ttbrAttrs = common.feature(PT_FEAT_ARMV7S_MTK_EXT) ? numberHi(top) : ARMV7S_TTBR_COHERENT;
    return {
      ttbr: (top | ttbrAttrs) >>> 0,
      ttbrAttrs,
      tcr: 0,
      prrr: ARMV7S_PRRR,
      nmrr: ARMV7S_NMRR,
      ttbr1: common.feature(PT_FEAT_ARMV7S_TTBR1),
      topTable: top,
      topLevel: topRange.topLevel,
    };
  }
}

/** A small page's attributes as a section's (the attribute block moved from bit 4 to bit 10, XN from bit 0 to 4). */
function sectionFromSmall(small: number, common: PtCommon): number {
  const block = (small >>> ARMV7S_ATTR_SHIFT_L0) & 0xff;
  let s = (block << ARMV7S_ATTR_SHIFT_L1) | (small & (ARMV7S_B | ARMV7S_C)) | ARMV7S_L1_TYPE_SECTION;
  if (small & ARMV7S_SMALL_XN) s |= ARMV7S_SECTION_XN;
  if (common.feature(PT_FEAT_ARMV7S_NS)) s |= ARMV7S_SECTION_NS;
  return s;
}

/** A section's attributes as a small page's. */
function smallFromSection(section: number): number {
  const block = (section >>> ARMV7S_ATTR_SHIFT_L1) & 0xff;
  let s = (block << ARMV7S_ATTR_SHIFT_L0) | (section & (ARMV7S_B | ARMV7S_C)) | ARMV7S_L0_SMALL_PAGE;
  if (section & ARMV7S_SECTION_XN) s |= ARMV7S_SMALL_XN;
  return s;
}

/** The ARMv7 short-descriptor format (plain, NS, TTBR1 or MediaTek's 34-bit OA, chosen by the config). */
export const armv7s = new Armv7sFormat();
