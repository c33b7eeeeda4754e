/**
 * The RISC-V Sv39/Sv48/Sv57 page table (the RISC-V IOMMU's first-stage
 * tables), as Linux's drivers/iommu/generic_pt/fmt/riscv.h defines it for
 * 64-bit entries. Level L is the spec's i = L; the top is level 2, 3 or 4.
 *
 * Every level may hold a leaf (4K, 2M, 1G, 512G, 256T). An item is a leaf
 * when any of R/W/X is set, a table pointer when V alone is. The address
 * field is the PPN at bits 53:10, i.e. PA >> 2 in place. With Svnapot a
 * 64 KiB leaf is 16 identical level 0 items with N set and PPN[3:0] = 1000b.
 * The table is used sign extended (canonical lower and upper halves).
 */
import {
  bit,
  Errno,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_SIGN_EXTEND,
  PtFormatDefaults,
  ptClearItems,
  ptFindPresent,
  ptTableInstall64,
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
  PT_FEAT_RISCV_SVNAPOT_64K,
  RISCVPT_A,
  RISCVPT_ATTR_BITS,
  RISCVPT_D,
  RISCVPT_N_HI,
  RISCVPT_NAPOT_64K_CONTIG_LG2,
  RISCVPT_PPN64_64K_LO,
  RISCVPT_PPN64_64K_SZ,
  RISCVPT_PPN64_HI,
  RISCVPT_PPN64_LO,
  RISCVPT_R,
  RISCVPT_RWX,
  RISCVPT_U,
  RISCVPT_V,
  RISCVPT_W,
  RISCVPT_X,
} from './bits.js';
import type { Riscv64Cfg, Riscv64HwInfo } from './types.js';

const TWO32 = 4294967296;
const NAPOT_ITEMS = 1 << RISCVPT_NAPOT_64K_CONTIG_LG2;

export class Riscv64Format extends PtFormatDefaults<Riscv64Cfg, Riscv64HwInfo> {
  /** PTPFX of the kernel build (PT_FMT riscv, PT_FMT_VARIANT 64); the golden traces say "riscv64". */
  readonly name = 'riscv_64';
  readonly maxVaAddressLg2 = 57;
  readonly maxOutputAddressLg2 = 56;
  readonly maxTopLevel = 4;
  readonly granuleLg2sz = 12;
  readonly tablememLg2sz = 12;
  /** fsc.PPN is 44 bits: PA bits 55:12. */
  readonly topPhysMask = 0xfffffffffff000n;
  readonly supportedFeatures = bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_RISCV_SVNAPOT_64K);
  override readonly featureNames = ['RISCV_SVNAPOT_64K'] as const;

  loadEntryRaw(pts: PtState): PtEntryType {
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    const lo = words[w]!;
    pts.entryLo = lo;
    pts.entryHi = words[w + 1]!;
    if (!(lo & RISCVPT_V)) return PT_ENTRY_EMPTY;
    if (pts.level === 0 || lo & RISCVPT_RWX) return PT_ENTRY_OA;
    return PT_ENTRY_TABLE;
  }

  tablePa(pts: PtState): number {
    // PPN << 12 is the field (PA >> 2) times 4
    return ((pts.entryHi & RISCVPT_PPN64_HI) * TWO32 + ((pts.entryLo & RISCVPT_PPN64_LO) >>> 0)) * 4;
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    const hi = pts.entryHi;
    // A Svnapot leaf's PPN[3:0] encodes its size, not address bits.
    const lo =
      hi & RISCVPT_N_HI && pts.range.common.feature(PT_FEAT_RISCV_SVNAPOT_64K)
        ? pts.entryLo & RISCVPT_PPN64_64K_LO
        : pts.entryLo & RISCVPT_PPN64_LO;
    out.set(((hi & RISCVPT_PPN64_HI) << 2) | (lo >>> 30), lo << 2);
  }

  canHaveLeaf(_pts: PtState): boolean {
    return true;
  }

  numItemsLg2(_pts: PtState): number {
    return 9;
  }

  /** N marks a Svnapot entry; the build supports it, so only the bit is read (as the kernel does). */
  override entryNumContigLg2(pts: PtState): number {
    return pts.entryHi & RISCVPT_N_HI ? RISCVPT_NAPOT_64K_CONTIG_LG2 : 0;
  }

  override contigCountLg2(pts: PtState): number {
    return pts.level === 0 && pts.range.common.feature(PT_FEAT_RISCV_SVNAPOT_64K) ? RISCVPT_NAPOT_64K_CONTIG_LG2 : 0;
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    if (pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    let lo = (((oaLo >>> 2) | (oaHi << 30)) & RISCVPT_PPN64_LO) | RISCVPT_V | attrs.descriptorLo;
    let hi = ((oaHi >>> 2) & RISCVPT_PPN64_HI) | attrs.descriptorHi;
    const words = pts.words;
    let w = pts.base + (pts.index << 1);
    if (pts.level === 0 && oaszLg2 !== this.granuleLg2sz && pts.range.common.feature(PT_FEAT_RISCV_SVNAPOT_64K)) {
      lo |= RISCVPT_PPN64_64K_SZ;
      hi |= RISCVPT_N_HI;
      for (const end = w + 2 * NAPOT_ITEMS; w < end; w += 2) {
        words[w] = lo;
        words[w + 1] = hi;
      }
    } else {
      words[w] = lo;
      words[w + 1] = hi;
    }
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    // V alone (R = W = X = 0) is what makes it a pointer.
    const field = tablePa / 4;
    const lo = ((field >>> 0) & RISCVPT_PPN64_LO) | RISCVPT_V;
    const hi = (field / TWO32) & RISCVPT_PPN64_HI;
    return ptTableInstall64(pts, hi, lo);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    attrs.set(0, pts.entryLo & RISCVPT_ATTR_BITS);
  }

  /* ---- bulk extensions: the same results as the per-entry defaults, in one loop ---- */

  override findNonEmpty(pts: PtState, endIndex: number): number {
    return ptFindPresent(pts, endIndex, RISCVPT_V);
  }

  override installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    if (count !== 0 && pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    // The field is OA >> 2 in place: run the in-place loop on the shifted OA,
    // while one step (2^(oasz-2)) still fits a word (4K, 2M and 1G items).
    if (oaszLg2 - 2 >= 32) return super.installLeafRun(pts, count, oaHi, oaLo, oaszLg2, attrs);
    const flags = RISCVPT_V | attrs.descriptorLo;
    return ptWriteLeafRun(
      pts,
      count,
      oaHi >>> 2,
      (oaLo >>> 2) | (oaHi << 30),
      oaszLg2 - 2,
      flags,
      attrs.descriptorHi,
      RISCVPT_PPN64_HI,
      RISCVPT_V,
      0,
    );
  }

  override clearLeafRun(pts: PtState, endIndex: number): number {
    const words = pts.words;
    const base = pts.base;
    // Level 0 items are all leaves; above, a leaf has R, W or X.
    const leaf = pts.level === 0 ? RISCVPT_V : RISCVPT_RWX;
    const start = pts.index;
    let i = start;
    let hi = pts.entryHi;
    // Step over the run entry by entry (a Svnapot entry is 16 items), then clear it at once.
    for (;;) {
      i += hi & RISCVPT_N_HI ? NAPOT_ITEMS : 1;
      if (i >= endIndex) break;
      const lo = words[base + (i << 1)]!;
      hi = words[base + (i << 1) + 1]!;
      if (!(lo & RISCVPT_V) || !(lo & leaf)) {
        pts.entryLo = lo;
        pts.entryHi = hi;
        pts.type = lo & RISCVPT_V ? PT_ENTRY_TABLE : PT_ENTRY_EMPTY;
        break;
      }
    }
    ptClearItems(pts.range.common, base + (start << 1), i - start);
    pts.index = i;
    return i - start;
  }

  iommuSetProt(_common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    let lo = RISCVPT_A | RISCVPT_U;
    // W without R is reserved in RISC-V: writable implies readable.
    if (prot & IOMMU_WRITE) lo |= RISCVPT_W | RISCVPT_R | RISCVPT_D;
    if (prot & IOMMU_READ) lo |= RISCVPT_R;
    if (!(prot & IOMMU_NOEXEC)) lo |= RISCVPT_X;
    // No R, W or X would read back as a table pointer.
    if (!(lo & RISCVPT_RWX)) return -Errno.EOPNOTSUPP;
    attrs.set(0, lo);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: Riscv64Cfg): number {
    // The mode is the VA width: Sv39, Sv48 or Sv57.
    switch (cfg.hwMaxVaszLg2) {
      case 39:
        common.topSetLevel(2);
        break;
      case 48:
        common.topSetLevel(3);
        break;
      case 57:
        common.topSetLevel(4);
        break;
      default:
        return -Errno.EINVAL;
    }
    common.maxOaszLg2 = Math.min(this.maxOutputAddressLg2, cfg.hwMaxOaszLg2);
    return 0;
  }

  override iommuFmtHwInfo(_common: PtCommon, topRange: PtRange): Riscv64HwInfo {
    // iosatp.MODE 8/9/10 is Sv39/48/57, i.e. top level + 6.
    return { ppn: topRange.topTable / 4096, fscIosatpMode: topRange.topLevel + 6 };
  }
}

/** The RISC-V 64-bit format as the kernel builds it (fmt/iommu_riscv64.c). */
export const riscv64 = new Riscv64Format();
