/**
 * The Apple DART page table, as the iommupt development line's
 * drivers/iommu/generic_pt/fmt/dart.h defines it: level 0 holds pages (one
 * granule each), level 1 tables, level 2, when the VA needs it, the TTBRs
 * as table pointers. The granule, 4 KiB or 16 KiB, comes from the config's
 * page-size bitmap and sizes the pages and every table, so each table sets
 * its own geometry at init (PtCommon.setGeometry). v1 and v2 differ in
 * where the address and the protection bits sit.
 */
import {
  bit,
  Errno,
  numberHi,
  numberLo,
  IOMMU_CACHE,
  IOMMU_READ,
  IOMMU_WRITE,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtFormatDefaults,
  ptCheckInstallLeafArgs,
  ptClearItems,
  ptFindPresent,
  ptWriteLeafRun,
  bitHi,
  bitLo,
  u64AddHi,
  u64AddLo,
  ptTableInstall64,
  type PtCommon,
  type PtEntryType,
  type PtRange,
  type PtState,
  type PtWriteAttrs,
  U64Pair,
} from '@genpt/pt-core';
import {
  DART_FMT_SUBPAGE_END_HI,
  DART_FMT_VALID,
  DART_FMT1_OA_HI,
  DART_FMT1_OA_LO,
  DART_FMT1_PROT_NO_READ,
  DART_FMT1_PROT_NO_WRITE,
  DART_FMT1_PROT_SP_DIS,
  DART_FMT2_OA_HI,
  DART_FMT2_OA_LO,
  DART_FMT2_PROT_NO_CACHE,
  DART_FMT2_PROT_NO_READ,
  DART_FMT2_PROT_NO_WRITE,
  DART_NUM_TTBRS,
  PT_FEAT_DART_V2,
} from './bits.js';
import type { DartCfg, DartHwInfo } from './types.js';

const TWO32 = 4294967296;
const V1_ATTRS = DART_FMT1_PROT_SP_DIS | DART_FMT1_PROT_NO_WRITE | DART_FMT1_PROT_NO_READ;
const V2_ATTRS = DART_FMT2_PROT_NO_CACHE | DART_FMT2_PROT_NO_WRITE | DART_FMT2_PROT_NO_READ;

/** Index of the lowest set bit of a non-negative safe integer (-1 for 0). */
function ffs(v: number): number {
  if (v === 0) return -1;
  let n = 0;
  while (v % 2 === 0) {
    v /= 2;
    n++;
  }
  return n;
}

export class DartFormat extends PtFormatDefaults<DartCfg, DartHwInfo> {
  readonly name = 'dart';
  /** v2's 42 bits (v1 holds 36: maxOaLg2). */
  readonly maxOutputAddressLg2 = 42;
  readonly maxVaAddressLg2 = 44;
  readonly maxTopLevel = 2;
  /** The smallest granule; each table sets its own at init. */
  readonly granuleLg2sz = 12;
  readonly tablememLg2sz = 12;
  readonly topPhysMask = 0xfffffffffffff000n;
  /** v1 table pointers hold 36 address bits: table memory from 4 GiB, not the default 2^40. */
  readonly tableMemoryBasePa = 2 ** 32;
  readonly supportedFeatures = bit(PT_FEAT_DART_V2);
  override readonly featureNames = ['DART_V2'] as const;
  /** tablePa's scratch (nothing it calls can re-enter). */
  private readonly pa = new U64Pair();

  loadEntryRaw(pts: PtState): PtEntryType {
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    const lo = words[w]!;
    pts.entryLo = lo;
    pts.entryHi = words[w + 1]!;
    if (!(lo & DART_FMT_VALID)) return PT_ENTRY_EMPTY;
    return pts.level === 0 ? PT_ENTRY_OA : PT_ENTRY_TABLE;
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    const lo = pts.entryLo;
    const hi = pts.entryHi;
    if (pts.range.common.feature(PT_FEAT_DART_V2)) {
      // Bits 37:10 are the address divided by 16 KiB: the OA is them << 4.
      const f = lo & DART_FMT2_OA_LO;
      out.set(((hi & DART_FMT2_OA_HI) << 4) | (f >>> 28), f << 4);
    } else out.set(hi & DART_FMT1_OA_HI, lo & DART_FMT1_OA_LO);
  }

  tablePa(pts: PtState): number {
    // A table pointer holds its address exactly as a leaf holds its OA.
    const pa = this.pa;
    this.entryOa(pts, pa);
    return pa.hi * TWO32 + (pa.lo >>> 0);
  }

  canHaveLeaf(pts: PtState): boolean {
    return pts.level === 0;
  }

  numItemsLg2(pts: PtState): number {
    return pts.range.common.granuleLg2sz - 3;
  }

  override maxOaLg2(common: PtCommon): number {
    return common.feature(PT_FEAT_DART_V2) ? 42 : 36;
  }

  /** The address field of an entry for OA (hi, lo), as [hi, lo] words written into `pts.entryHi/Lo`. */
  private encodeOa(pts: PtState, oaHi: number, oaLo: number): void {
    if (pts.range.common.feature(PT_FEAT_DART_V2)) {
      pts.entryLo = ((oaLo >>> 4) | (oaHi << 28)) & DART_FMT2_OA_LO;
      pts.entryHi = (oaHi >>> 4) & DART_FMT2_OA_HI;
    } else {
      pts.entryLo = oaLo & DART_FMT1_OA_LO;
      pts.entryHi = oaHi & DART_FMT1_OA_HI;
    }
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    if (pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    this.encodeOa(pts, oaHi, oaLo);
    // Every leaf allows its whole page: sub-page start 0, end 0xfff.
    const lo = pts.entryLo | DART_FMT_VALID | attrs.descriptorLo;
    const hi = pts.entryHi | DART_FMT_SUBPAGE_END_HI | attrs.descriptorHi;
    const w = pts.base + (pts.index << 1);
    pts.words[w] = lo;
    pts.words[w + 1] = hi;
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  /* ---- bulk extensions: the per-entry defaults' results, in one loop ---- */

  override findNonEmpty(pts: PtState, endIndex: number): number {
    return ptFindPresent(pts, endIndex, DART_FMT_VALID);
  }

  override installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    if (count !== 0 && pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    // v2 holds the OA shifted; v1's address field is the OA in place.
    if (pts.range.common.feature(PT_FEAT_DART_V2)) return this.installLeafRunV2(pts, count, oaHi, oaLo, oaszLg2, attrs);
    const flags = DART_FMT_VALID | attrs.descriptorLo;
    const attrHi = DART_FMT_SUBPAGE_END_HI | attrs.descriptorHi;
    return ptWriteLeafRun(pts, count, oaHi, oaLo, oaszLg2, flags, attrHi, DART_FMT1_OA_HI, DART_FMT_VALID, 0);
  }

  /** installLeafRun for v2: each item's OA encoded in 16 KiB units; stops before a valid item. */
  private installLeafRunV2(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    const words = pts.words;
    const flags = DART_FMT_VALID | attrs.descriptorLo;
    const attrHi = DART_FMT_SUBPAGE_END_HI | attrs.descriptorHi;
    const sizeHi = bitHi(oaszLg2);
    const sizeLo = bitLo(oaszLg2);
    let w = pts.base + (pts.index << 1);
    let n = 0;
    for (; n < count; n++, w += 2) {
      // As the default's per-item load: an occupied item ends the run, left in pts.entry.
      if (words[w]! & DART_FMT_VALID) {
        pts.entryLo = words[w]!;
        pts.entryHi = words[w + 1]!;
        break;
      }
      words[w] = (((oaLo >>> 4) | (oaHi << 28)) & DART_FMT2_OA_LO) | flags;
      words[w + 1] = ((oaHi >>> 4) & DART_FMT2_OA_HI) | attrHi;
      const h = u64AddHi(oaHi, oaLo, sizeHi, sizeLo);
      oaLo = u64AddLo(oaHi, oaLo, sizeHi, sizeLo);
      oaHi = h;
    }
    if (n !== 0) {
      // the last leaf written, as installLeafEntry leaves it
      const last = pts.base + ((pts.index + n - 1) << 1);
      pts.entryLo = words[last]!;
      pts.entryHi = words[last + 1]!;
    }
    return n;
  }

  override clearLeafRun(pts: PtState, endIndex: number): number {
    // Leaves live at level 0 only, one item each: the run is every valid item from here.
    const words = pts.words;
    const base = pts.base;
    const start = pts.index;
    const first = base + (start << 1);
    const stop = base + (endIndex << 1);
    let w = first + 2;
    while (w < stop && words[w]! & DART_FMT_VALID) w += 2;
    ptClearItems(pts.range.common, first, (w - first) >>> 1);
    const i = (w - base) >>> 1;
    pts.index = i;
    if (i < endIndex) {
      pts.entryLo = words[w]!;
      pts.entryHi = words[w + 1]!;
      pts.type = PT_ENTRY_EMPTY;
    }
    return i - start;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    const entryLo = pts.entryLo;
    const entryHi = pts.entryHi;
    this.encodeOa(pts, numberHi(tablePa), numberLo(tablePa));
    const lo = pts.entryLo | DART_FMT_VALID;
    const hi = pts.entryHi;
    // ptTableInstall64 compares against the entry as loaded.
    pts.entryLo = entryLo;
    pts.entryHi = entryHi;
    return ptTableInstall64(pts, hi, lo);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    attrs.set(0, pts.entryLo & (pts.range.common.feature(PT_FEAT_DART_V2) ? V2_ATTRS : V1_ATTRS));
  }

  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    let lo = 0;
    if (common.feature(PT_FEAT_DART_V2)) {
      if (!(prot & IOMMU_WRITE)) lo |= DART_FMT2_PROT_NO_WRITE;
      if (!(prot & IOMMU_READ)) lo |= DART_FMT2_PROT_NO_READ;
      if (!(prot & IOMMU_CACHE)) lo |= DART_FMT2_PROT_NO_CACHE;
    } else {
      if (!(prot & IOMMU_WRITE)) lo |= DART_FMT1_PROT_NO_WRITE;
      if (!(prot & IOMMU_READ)) lo |= DART_FMT1_PROT_NO_READ;
      lo |= DART_FMT1_PROT_SP_DIS;
    }
    attrs.set(0, lo);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: DartCfg): number {
    let bitmap = cfg.pgsizeBitmap;
    if (!Number.isSafeInteger(bitmap) || bitmap < 0) return -Errno.EINVAL;
    // v2's address field counts 16 KiB units: smaller pages cannot be held.
    if (common.feature(PT_FEAT_DART_V2)) bitmap -= bitmap % 2 ** 14;
    const oasz = cfg.hwMaxOaszLg2;
    const vasz = cfg.hwMaxVaszLg2;
    if ((oasz !== 36 && oasz !== 42) || vasz > oasz || !(bitmap & (0x1000 | 0x4000))) return -Errno.EOPNOTSUPP;
    // The lowest page size is the granule: a page, and the size of every table.
    const granule = ffs(bitmap);
    common.setGeometry(granule, granule);
    // Levels 0 and 1 together translate this much.
    const l2VaLg2 = granule + (granule - 3) * 2;
    if (vasz <= l2VaLg2) {
      // One TTBR: the level 1 table is the top.
      common.topSetLevel(1);
      return 0;
    }
    if (vasz - l2VaLg2 > Math.log2(DART_NUM_TTBRS)) return -Errno.EOPNOTSUPP;
    // Otherwise a level 2 table holds the TTBRs as table pointers.
    common.topSetLevel(2);
    return 0;
  }

  override iommuFmtHwInfo(common: PtCommon, topRange: PtRange): DartHwInfo {
    const g = common.granuleLg2sz;
    const l2VaLg2 = g + (g - 3) * 2;
    const ttbrCount = topRange.topLevel === 2 ? 2 ** (common.maxVaszLg2 - l2VaLg2) : 1;
    return { granuleLg2sz: g, ttbrCount, topTable: topRange.topTable, topLevel: topRange.topLevel };
  }
}

/** The DART format (v1 or v2, 4 KiB or 16 KiB, chosen by the config). */
export const dart = new DartFormat();
