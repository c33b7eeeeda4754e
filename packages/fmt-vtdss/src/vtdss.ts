/**
 * The Intel VT-d second-stage page table (3-, 4- and 5-level), as Linux's
 * drivers/iommu/generic_pt/fmt/vtdss.h defines it. Levels: 0 SS-PTE, 1 SS-PDE,
 * 2 SS-PDPTE, 3 SS-PML4E, 4 SS-PML5E; leaves are 4 KiB, 2 MiB (PS) and
 * 1 GiB (PS). No present bit: zero is empty, anything else is in use.
 */
import {
  bit,
  Errno,
  IOMMU_READ,
  IOMMU_WRITE,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PtFormatDefaults,
  ptClearItems,
  ptTableInstall64,
  ptTryCmpxchgEntry,
  ptWriteLeafRun,
  type PtCommon,
  type PtEntryType,
  type PtRange,
  type PtState,
  type PtWriteAttrs,
  type U64Pair,
  ptCheckInstallLeafArgs,
} from '@genpt/pt-core';
import {
  PT_FEAT_VTDSS_FORCE_COHERENCE,
  PT_FEAT_VTDSS_FORCE_WRITEABLE,
  VTDSS_FMT_D,
  VTDSS_FMT_OA_HI,
  VTDSS_FMT_OA_LO,
  VTDSS_FMT_PS,
  VTDSS_FMT_R,
  VTDSS_FMT_SNP,
  VTDSS_FMT_W,
} from './bits.js';
import type { VtdssCfg, VtdssHwInfo } from './types.js';

const TWO32 = 4294967296;

export class VtdssFormat extends PtFormatDefaults<VtdssCfg, VtdssHwInfo> {
  readonly name = 'vtdss';
  readonly maxOutputAddressLg2 = 52;
  readonly maxVaAddressLg2 = 57;
  readonly maxTopLevel = 4;
  readonly granuleLg2sz = 12;
  readonly tablememLg2sz = 12;
  /** SSPTPTR holds a 4 KiB aligned address (its width is the HAW). */
  readonly topPhysMask = 0xfffffffffffff000n;
  readonly supportedFeatures =
    bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_VTDSS_FORCE_COHERENCE) | bit(PT_FEAT_VTDSS_FORCE_WRITEABLE) | bit(PT_FEAT_DMA_INCOHERENT);
  override readonly featureNames = ['VTDSS_FORCE_COHERENCE', 'VTDSS_FORCE_WRITEABLE'] as const;
  override readonly hasWriteDirty = true;
  override readonly hasMakeWriteDirty = true;
  override readonly hasSwBits = true;

  loadEntryRaw(pts: PtState): PtEntryType {
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    const lo = words[w]!;
    const hi = words[w + 1]!;
    pts.entryLo = lo;
    pts.entryHi = hi;
    if ((lo | hi) === 0) return PT_ENTRY_EMPTY;
    const level = pts.level;
    if (level === 0 || (level <= 2 && lo & VTDSS_FMT_PS)) return PT_ENTRY_OA;
    return PT_ENTRY_TABLE;
  }

  tablePa(pts: PtState): number {
    return (pts.entryHi & VTDSS_FMT_OA_HI) * TWO32 + ((pts.entryLo & VTDSS_FMT_OA_LO) >>> 0);
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    out.set(pts.entryHi & VTDSS_FMT_OA_HI, pts.entryLo & VTDSS_FMT_OA_LO);
  }

  canHaveLeaf(pts: PtState): boolean {
    return pts.level <= 2;
  }

  numItemsLg2(_pts: PtState): number {
    return 9;
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    if (pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    let lo = (oaLo & VTDSS_FMT_OA_LO) | attrs.descriptorLo;
    const hi = (oaHi & VTDSS_FMT_OA_HI) | attrs.descriptorHi;
    if (pts.level !== 0) lo |= VTDSS_FMT_PS;
    const w = pts.base + (pts.index << 1);
    pts.words[w] = lo;
    pts.words[w + 1] = hi;
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    // Tables allow everything; the leaf decides.
    const lo = ((tablePa >>> 0) & VTDSS_FMT_OA_LO) | VTDSS_FMT_R | VTDSS_FMT_W;
    const hi = (tablePa / TWO32) & VTDSS_FMT_OA_HI;
    return ptTableInstall64(pts, hi, lo);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    attrs.set(0, pts.entryLo & (VTDSS_FMT_R | VTDSS_FMT_W | VTDSS_FMT_SNP));
  }

  /* ---- dirty: hardware sets D per item (no contiguous entries) ---- */

  override entryIsWriteDirty(pts: PtState): boolean {
    return (pts.words[pts.base + (pts.index << 1)]! & VTDSS_FMT_D) !== 0;
  }

  override entryMakeWriteClean(pts: PtState): void {
    const w = pts.base + (pts.index << 1);
    pts.words[w] = pts.words[w]! & ~VTDSS_FMT_D;
  }

  override entryMakeWriteDirty(pts: PtState): boolean {
    return ptTryCmpxchgEntry(pts, pts.entryHi, pts.entryLo | VTDSS_FMT_D);
  }

  /* ---- software bits: those the specification marks ignored in every entry ---- */

  override maxSwBit(_common: PtCommon): number {
    return 10;
  }

  /** SW bit 0 is bit 10, 1..9 are bits 52..60, 10 is bit 63. */
  override swBit(bitnr: number, out: U64Pair): void {
    if (bitnr === 0) out.set(0, 1 << 10);
    else if (bitnr >= 1 && bitnr <= 9) out.set(1 << (bitnr - 1 + 52 - 32), 0);
    else if (bitnr === 10) out.set(1 << 31, 0);
    else throw new RangeError(`vtdss has no software bit ${bitnr}`);
  }

  /* ---- bulk extensions: the same results as the per-entry defaults, in one loop ---- */

  override findNonEmpty(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    let w = base + (pts.index << 1);
    const stop = base + (endIndex << 1);
    while (w < stop && (words[w]! | words[w + 1]!) === 0) w += 2;
    return (w - base) >>> 1;
  }

  override installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    if (count !== 0 && pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    const flags = attrs.descriptorLo | (pts.level !== 0 ? VTDSS_FMT_PS : 0);
    // Any non-zero word means the item is in use.
    return ptWriteLeafRun(pts, count, oaHi, oaLo, oaszLg2, flags, attrs.descriptorHi, VTDSS_FMT_OA_HI, -1, -1);
  }

  override clearLeafRun(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    const start = pts.index;
    const first = base + (start << 1);
    const stop = base + (endIndex << 1);
    // Find the end of the run of leaves (single items), then clear it at once.
    let w = first + 2;
    if (pts.level === 0) {
      while (w < stop && (words[w]! | words[w + 1]!) !== 0) w += 2;
    } else {
      // At levels 1 and 2 PS marks a leaf; a table pointer never has it
      while (w < stop && words[w]! & VTDSS_FMT_PS) w += 2;
    }
    ptClearItems(pts.range.common, first, (w - first) >>> 1);
    const i = (w - base) >>> 1;
    pts.index = i;
    if (i < endIndex) {
      const lo = words[w]!;
      const hi = words[w + 1]!;
      pts.entryLo = lo;
      pts.entryHi = hi;
      pts.type = (lo | hi) !== 0 ? PT_ENTRY_TABLE : PT_ENTRY_EMPTY;
    }
    return i - start;
  }

  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    // Without a present bit, R or W is what makes a leaf non-empty.
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return -Errno.EINVAL;
    let lo = 0;
    if (prot & IOMMU_READ) lo |= VTDSS_FMT_R;
    if (prot & IOMMU_WRITE) lo |= VTDSS_FMT_W;
    if (common.feature(PT_FEAT_VTDSS_FORCE_COHERENCE)) lo |= VTDSS_FMT_SNP;
    // Nested-parent tables must not hold read-only leaves (ERRATA_772415_SPR17).
    if (common.feature(PT_FEAT_VTDSS_FORCE_WRITEABLE) && !(prot & IOMMU_WRITE)) return -Errno.EINVAL;
    attrs.set(0, lo);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: VtdssCfg): number {
    const top = cfg.topLevel;
    if (!Number.isInteger(top)) return -Errno.EINVAL;
    if (top < 2 || top > 4) return -Errno.EOPNOTSUPP;
    common.topSetLevel(top);
    return 0;
  }

  override iommuFmtHwInfo(_common: PtCommon, topRange: PtRange): VtdssHwInfo {
    // aw: 1 for a 3-level table, 2 for 4-level, 3 for 5-level
    return { ssptptr: topRange.topTable, aw: topRange.topLevel - 1 };
  }
}

/** The VT-d second-stage format as the kernel builds it for the Intel IOMMU driver. */
export const vtdss = new VtdssFormat();
