/**
 * The AMD IOMMU v1 ("host") page table format, as Linux's
 * drivers/iommu/generic_pt/fmt/amdv1.h defines it. Level numbering is the
 * generic one: level L is AMD level/mode L+1.
 *
 * Leaves are the item size (Next Level 0) or a power-of-two multiple of it
 * (Next Level 7): every item of such a contiguous entry holds the same value,
 * with the size encoded as a run of ones in the address field starting at bit
 * 12 (2^(granule+1+ones) bytes). 512 GiB pages are never used (a hardware
 * erratum), and the top-most level holds no leaves.
 */
import {
  bit,
  Errno,
  hiOfBig,
  loOfBig,
  IOMMU_MMIO,
  IOMMU_READ,
  IOMMU_WRITE,
  maskHi,
  maskLo,
  ffz32,
  ffz64,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FULL_VA,
  PtFormatDefaults,
  ptClearItems,
  ptFindPresent,
  ptTableInstall64,
  ptTryCmpxchgEntry,
  ptFillEntries,
  ptWriteLeafRun,
  u64ShlHi,
  u64ShlLo,
  u64ShrHi,
  u64ShrLo,
  type PtCommon,
  type PtEntryType,
  type PtRange,
  type PtState,
  type PtWriteAttrs,
  type U64Pair,
  ptCheckInstallLeafArgs,
} from '@genpt/pt-core';
import {
  AMDV1PT_FMT_D,
  AMDV1PT_FMT_FC_HI,
  AMDV1PT_FMT_IR_HI,
  AMDV1PT_FMT_IW_HI,
  AMDV1PT_FMT_NEXT_LEVEL_MASK,
  AMDV1PT_FMT_NEXT_LEVEL_SHIFT,
  AMDV1PT_FMT_NL_DEFAULT,
  AMDV1PT_FMT_NL_SIZE,
  AMDV1PT_FMT_OA_HI,
  AMDV1PT_FMT_OA_LO,
  AMDV1PT_FMT_PR,
  PT_FEAT_AMDV1_ENCRYPT_TABLES,
  PT_FEAT_AMDV1_FORCE_COHERENCE,
} from './bits.js';
import type { Amdv1Cfg, Amdv1HwInfo, Amdv1Options, Amdv1Variant } from './types.js';

/** The production AMDv1 build (fmt/iommu_amdv1.c). */
export const AMDV1_VARIANT: Readonly<Amdv1Variant> = Object.freeze({
  name: 'amdv1',
  granuleLg2sz: 12,
  maxVaAddressLg2: 64,
  maxOutputAddressLg2: 52,
  maxTopLevel: 5,
  supportedFeatures:
    bit(PT_FEAT_FULL_VA) |
    bit(PT_FEAT_DYNAMIC_TOP) |
    bit(PT_FEAT_FLUSH_RANGE) |
    bit(PT_FEAT_FLUSH_RANGE_NO_GAPS) |
    bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
    bit(PT_FEAT_AMDV1_FORCE_COHERENCE),
  forceEnabledFeatures: bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) | bit(PT_FEAT_AMDV1_FORCE_COHERENCE),
  hasHwInfo: true,
});

/** 2^39: AMD hardware cannot use 512 GiB pages. */
const SZ_512G_LG2 = 39;
const TWO32 = 4294967296;

export class Amdv1Format extends PtFormatDefaults<Amdv1Cfg, Amdv1HwInfo> {
  readonly name: string;
  readonly maxVaAddressLg2: number;
  readonly maxOutputAddressLg2: number;
  readonly maxTopLevel: number;
  readonly granuleLg2sz: number;
  readonly tablememLg2sz = 12;
  /** The DTE root field holds bits 51:12. */
  readonly topPhysMask = 0xffffffffff000n;
  readonly supportedFeatures: number;
  override readonly forceEnabledFeatures: number;
  override readonly featureNames = ['AMDV1_ENCRYPT_TABLES', 'AMDV1_FORCE_COHERENCE'] as const;
  override readonly hasWriteDirty = true;
  // The development line force-enables both on AMD v1: its contiguous
  // encoding may change size, and a leaf may swap for a table, while present.
  override readonly oaSizeChange = true;
  override readonly oaTableXchg = true;
  override readonly hasMakeWriteDirty = true;
  /** The C-bit as words; all zero without SME. */
  readonly smeHi: number;
  readonly smeLo: number;
  /** The address field starts at bit 12 and holds OA >> granule: entry = OA << oaShift. */
  private readonly oaShift: number;
  private readonly oaScale: number;

  constructor(variant: Amdv1Variant = AMDV1_VARIANT, opts: Amdv1Options = {}) {
    super();
    this.name = variant.name;
    this.granuleLg2sz = variant.granuleLg2sz;
    this.maxVaAddressLg2 = variant.maxVaAddressLg2;
    this.maxOutputAddressLg2 = variant.maxOutputAddressLg2;
    this.maxTopLevel = variant.maxTopLevel;
    this.supportedFeatures = variant.supportedFeatures >>> 0;
    this.forceEnabledFeatures = variant.forceEnabledFeatures >>> 0;
    this.oaShift = 12 - variant.granuleLg2sz;
    this.oaScale = 2 ** this.oaShift;
    const sme = opts.smeMeMask ?? 0n;
    this.smeHi = hiOfBig(sme);
    this.smeLo = loOfBig(sme);
    // PT_FMT_VARIANT builds (the iommufd mock) have no hw_info.
    if (!variant.hasHwInfo) Object.defineProperty(this, 'iommuFmtHwInfo', { value: undefined });
  }

  /** Entry words with the C-bit removed when tables are encrypted. */
  private clearSme(pts: PtState): boolean {
    return (this.smeHi | this.smeLo) !== 0 && pts.range.common.feature(PT_FEAT_AMDV1_ENCRYPT_TABLES);
  }

  loadEntryRaw(pts: PtState): PtEntryType {
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    const lo = words[w]!;
    pts.entryLo = lo;
    pts.entryHi = words[w + 1]!;
    if (!(lo & AMDV1PT_FMT_PR)) return PT_ENTRY_EMPTY;
    const nl = (lo >>> AMDV1PT_FMT_NEXT_LEVEL_SHIFT) & AMDV1PT_FMT_NEXT_LEVEL_MASK;
    if (pts.level === 0 || nl === AMDV1PT_FMT_NL_DEFAULT || nl === AMDV1PT_FMT_NL_SIZE) return PT_ENTRY_OA;
    return PT_ENTRY_TABLE;
  }

  tablePa(pts: PtState): number {
    let hi = pts.entryHi;
    let lo = pts.entryLo;
    if (this.clearSme(pts)) {
      hi &= ~this.smeHi;
      lo &= ~this.smeLo;
    }
    const field = (hi & AMDV1PT_FMT_OA_HI) * TWO32 + ((lo & AMDV1PT_FMT_OA_LO) >>> 0);
    return this.oaShift === 0 ? field : field / this.oaScale;
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    let hi = pts.entryHi;
    let lo = pts.entryLo;
    if (this.clearSme(pts)) {
      hi &= ~this.smeHi;
      lo &= ~this.smeLo;
    }
    hi &= AMDV1PT_FMT_OA_HI;
    let fl = lo & AMDV1PT_FMT_OA_LO;
    const nl = (lo >>> AMDV1PT_FMT_NEXT_LEVEL_SHIFT) & AMDV1PT_FMT_NEXT_LEVEL_MASK;
    if (nl === AMDV1PT_FMT_NL_SIZE) {
      // Drop the run of ones that encodes the size (it starts at bit 12).
      const z = ffz64(hi, fl | 0xfff);
      hi &= ~maskHi(z);
      fl &= ~maskLo(z);
    } else if (nl !== AMDV1PT_FMT_NL_DEFAULT) {
      out.set(0, 0);
      return;
    }
    out.set(u64ShrHi(hi, fl, this.oaShift), u64ShrLo(hi, fl, this.oaShift));
  }

  canHaveLeaf(pts: PtState): boolean {
    // The top-most level cannot hold translations.
    return pts.level < this.maxTopLevel;
  }

  numItemsLg2(pts: PtState): number {
    // Level 5 decodes only VA bits 63:57; the kernel warns if asked.
    return pts.level === 5 ? 7 : 9;
  }

  override entryNumContigLg2(pts: PtState): number {
    const lo = pts.entryLo;
    if (((lo >>> AMDV1PT_FMT_NEXT_LEVEL_SHIFT) & AMDV1PT_FMT_NEXT_LEVEL_MASK) === AMDV1PT_FMT_NL_DEFAULT) return 0;
    // Count the ones from the top bit of the item size's own encoding: that bit
    // is always one (NL's bit 11 at level 0), the rest are the contiguity.
    const s = 11 + pts.range.common.itemLg2sz[pts.level]! - this.granuleLg2sz;
    return ffz32(u64ShrLo(pts.entryHi, lo, s));
  }

  override possibleSizes(pts: PtState, out: U64Pair): void {
    if (!this.canHaveLeaf(pts)) {
      out.set(0, 0);
      return;
    }
    const isz = pts.range.common.itemLg2sz[pts.level]!;
    const top = Math.min(51, isz + this.numItemsLg2(pts) - 1);
    // bits isz..top, without 512 GiB
    let hi = maskHi(top + 1) & ~maskHi(isz);
    const lo = maskLo(top + 1) & ~maskLo(isz);
    hi &= ~(1 << (SZ_512G_LG2 - 32));
    out.set(hi, lo);
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    if (pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    const isz = pts.range.common.itemLg2sz[pts.level]!;
    const s = this.oaShift;
    let lo = (u64ShlLo(oaHi, oaLo, s) & AMDV1PT_FMT_OA_LO) | AMDV1PT_FMT_PR | attrs.descriptorLo;
    let hi = (u64ShlHi(oaHi, oaLo, s) & AMDV1PT_FMT_OA_HI) | attrs.descriptorHi;
    const w = pts.base + (pts.index << 1);
    if (oaszLg2 === isz) {
      pts.words[w] = lo;
      pts.words[w + 1] = hi;
    } else {
      // Next Level 7 and (oasz - granule - 1) ones from address bit 12.
      const end = 12 + oaszLg2 - this.granuleLg2sz - 1;
      lo |= (AMDV1PT_FMT_NL_SIZE << AMDV1PT_FMT_NEXT_LEVEL_SHIFT) | (maskLo(end) & ~0xfff);
      hi |= maskHi(end);
      // Every item holds the same value
      ptFillEntries(pts.range.common, w, 1 << (oaszLg2 - isz), hi, lo);
    }
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    const field = tablePa * this.oaScale;
    // Tables always allow read and write: permissions are enforced at the leaf.
    let lo = ((field >>> 0) & AMDV1PT_FMT_OA_LO) | AMDV1PT_FMT_PR | (pts.level << AMDV1PT_FMT_NEXT_LEVEL_SHIFT);
    let hi = ((field / TWO32) & AMDV1PT_FMT_OA_HI) | AMDV1PT_FMT_IR_HI | AMDV1PT_FMT_IW_HI;
    if (pts.range.common.feature(PT_FEAT_AMDV1_ENCRYPT_TABLES)) {
      lo |= this.smeLo;
      hi |= this.smeHi;
    }
    return ptTableInstall64(pts, hi, lo);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    attrs.set(pts.entryHi & (AMDV1PT_FMT_FC_HI | AMDV1PT_FMT_IR_HI | AMDV1PT_FMT_IW_HI), 0);
  }

  override entryIsWriteDirty(pts: PtState): boolean {
    const n = this.entryNumContigLg2(pts);
    const words = pts.words;
    let w = pts.base + ((pts.index & (-1 << n)) << 1);
    const stop = w + (2 << n);
    for (; w < stop; w += 2) if (words[w]! & AMDV1PT_FMT_D) return true;
    return false;
  }

  override entryMakeWriteClean(pts: PtState): void {
    const n = this.entryNumContigLg2(pts);
    const words = pts.words;
    let w = pts.base + ((pts.index & (-1 << n)) << 1);
    const stop = w + (2 << n);
    for (; w < stop; w += 2) words[w] = words[w]! & ~AMDV1PT_FMT_D;
  }

  override entryMakeWriteDirty(pts: PtState): boolean {
    return ptTryCmpxchgEntry(pts, pts.entryHi, pts.entryLo | AMDV1PT_FMT_D);
  }

  /* ---- bulk extensions: the same results as the per-entry defaults, in one loop ---- */

  override findNonEmpty(pts: PtState, endIndex: number): number {
    return ptFindPresent(pts, endIndex, AMDV1PT_FMT_PR);
  }

  /** Present, D clear, Next Level 0 (any but 7 at level 0, where nothing is a table): one test per item. */
  override skipCleanLeaves(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    const nlField = AMDV1PT_FMT_NEXT_LEVEL_MASK << AMDV1PT_FMT_NEXT_LEVEL_SHIFT;
    const mask = AMDV1PT_FMT_PR | AMDV1PT_FMT_D | nlField;
    let i = pts.index + 1;
    if (pts.level === 0) {
      const contig = AMDV1PT_FMT_NL_SIZE << AMDV1PT_FMT_NEXT_LEVEL_SHIFT;
      for (; i < endIndex; i++) {
        const lo = words[base + (i << 1)]!;
        if ((lo & (AMDV1PT_FMT_PR | AMDV1PT_FMT_D)) !== AMDV1PT_FMT_PR || (lo & nlField) === contig) break;
      }
    } else {
      while (i < endIndex && (words[base + (i << 1)]! & mask) === AMDV1PT_FMT_PR) i++;
    }
    return i;
  }

  override installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    if (count !== 0 && pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    if (this.oaShift !== 0 || oaszLg2 >= 32) return super.installLeafRun(pts, count, oaHi, oaLo, oaszLg2, attrs);
    // Single-item leaves below 4 GiB (Next Level 0): OA bits 51:12 map
    // straight onto the address field, so each entry is the OA plus flags.
    const flags = AMDV1PT_FMT_PR | attrs.descriptorLo;
    return ptWriteLeafRun(pts, count, oaHi, oaLo, oaszLg2, flags, attrs.descriptorHi, AMDV1PT_FMT_OA_HI, AMDV1PT_FMT_PR, 0);
  }

  override clearLeafRun(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    const level = pts.level;
    const shift = 11 + pts.range.common.itemLg2sz[level]! - this.granuleLg2sz;
    const start = pts.index;
    // Step over the run of leaves entry by entry, then clear it at once.
    let i = start;
    let lo = pts.entryLo;
    let hi = pts.entryHi;
    for (;;) {
      // Single-item leaves (present, Next Level 0) four at a time first:
      // with a 4 KiB-only bitmap this is the whole run.
      const one = AMDV1PT_FMT_PR | (AMDV1PT_FMT_NL_DEFAULT << AMDV1PT_FMT_NEXT_LEVEL_SHIFT);
      const kind = AMDV1PT_FMT_PR | (AMDV1PT_FMT_NEXT_LEVEL_MASK << AMDV1PT_FMT_NEXT_LEVEL_SHIFT);
      if ((lo & kind) === one) {
        let w = base + ((i + 1) << 1);
        const stop = base + (endIndex << 1);
        while (
          w + 6 < stop &&
          (words[w]! & kind) === one &&
          (words[w + 2]! & kind) === one &&
          (words[w + 4]! & kind) === one &&
          (words[w + 6]! & kind) === one
        )
          w += 8;
        while (w < stop && (words[w]! & kind) === one) w += 2;
        // w is the first item past the run of single leaves; step back onto its last one
        i = ((w - base) >>> 1) - 1;
        lo = words[base + (i << 1)]!;
        hi = words[base + (i << 1) + 1]!;
      }
      // entryNumContigLg2() of the entry at i
      const nl = (lo >>> AMDV1PT_FMT_NEXT_LEVEL_SHIFT) & AMDV1PT_FMT_NEXT_LEVEL_MASK;
      i += nl === AMDV1PT_FMT_NL_DEFAULT ? 1 : 1 << ffz32(u64ShrLo(hi, lo, shift));
      if (i >= endIndex) break;
      lo = words[base + (i << 1)]!;
      hi = words[base + (i << 1) + 1]!;
      const next = (lo >>> AMDV1PT_FMT_NEXT_LEVEL_SHIFT) & AMDV1PT_FMT_NEXT_LEVEL_MASK;
      if (!(lo & AMDV1PT_FMT_PR) || (level !== 0 && next !== AMDV1PT_FMT_NL_DEFAULT && next !== AMDV1PT_FMT_NL_SIZE)) {
        pts.entryLo = lo;
        pts.entryHi = hi;
        pts.type = lo & AMDV1PT_FMT_PR ? PT_ENTRY_TABLE : PT_ENTRY_EMPTY;
        break;
      }
    }
    ptClearItems(pts.range.common, base + (start << 1), i - start);
    pts.index = i;
    return i - start;
  }

  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    let hi = 0;
    let lo = 0;
    if (common.feature(PT_FEAT_AMDV1_FORCE_COHERENCE)) hi |= AMDV1PT_FMT_FC_HI;
    if (prot & IOMMU_READ) hi |= AMDV1PT_FMT_IR_HI;
    if (prot & IOMMU_WRITE) hi |= AMDV1PT_FMT_IW_HI;
    // Without an IOMMU_ENCRYPTED flag, leaves follow the tables (MMIO excepted).
    if (common.feature(PT_FEAT_AMDV1_ENCRYPT_TABLES) && !(prot & IOMMU_MMIO)) {
      hi |= this.smeHi;
      lo |= this.smeLo;
    }
    attrs.set(hi, lo);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: Amdv1Cfg): number {
    const start = cfg.startingLevel;
    if (!Number.isInteger(start) || start <= 0 || start > this.maxTopLevel) return -Errno.EINVAL;
    let maxVasz = this.maxVaAddressLg2;
    if (!common.feature(PT_FEAT_DYNAMIC_TOP) && start !== this.maxTopLevel) {
      maxVasz = this.granuleLg2sz + (this.tablememLg2sz - 3) * (start + 1);
    }
    common.maxVaszLg2 = Math.min(maxVasz, cfg.hwMaxVaszLg2);
    common.maxOaszLg2 = Math.min(this.maxOutputAddressLg2, cfg.hwMaxOaszLg2);
    common.topSetLevel(start);
    return 0;
  }

  override iommuFmtHwInfo(_common: PtCommon, topRange: PtRange): Amdv1HwInfo {
    return { hostPtRoot: topRange.topTable, mode: topRange.topLevel + 1 };
  }
}

/** The AMDv1 format as the kernel builds it for the AMD IOMMU driver. */
export const amdv1 = new Amdv1Format();
