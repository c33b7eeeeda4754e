/**
 * The kernel's pt_fmt_defaults.h: implementations of the optional format
 * functions, written once. A format extends {@link PtFormatDefaults} and
 * overrides what it defines itself.
 */
import type { PtWriteAttrs } from './attrs.js';
import { ptCheckFailed } from './check.js';
import type { PtCommon } from './common.js';
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, type PtEntryType } from './entry-type.js';
import { ptClearItems, ptClearItems32, ptItemOr } from './entry-write.js';
import type { PtFormat, PtIommuCfg } from './format.js';
import { log2Mod32 } from './log2.js';
import { ptDefaultPgszLg2ToLevel } from './pgsize.js';
import type { PtRange } from './range.js';
import type { PtState } from './state.js';
import { bitHi, bitLo, maskHi, maskLo, U64Pair, u64AddHiOfSum, u64AddLoSum, u64Hex, u64ShlHi, u64ShlLo } from './u64.js';

export abstract class PtFormatDefaults<Cfg extends PtIommuCfg = PtIommuCfg, HwInfo = unknown> implements PtFormat<Cfg, HwInfo> {
  abstract readonly name: string;
  readonly itemWordSize: number = 8;
  abstract readonly maxVaAddressLg2: number;
  abstract readonly maxOutputAddressLg2: number;
  abstract readonly maxTopLevel: number;
  abstract readonly granuleLg2sz: number;
  abstract readonly tablememLg2sz: number;
  abstract readonly topPhysMask: bigint;
  abstract readonly supportedFeatures: number;
  readonly forceEnabledFeatures: number = 0;
  readonly featureNames: readonly string[] = [];
  readonly hasWriteDirty: boolean = false;
  readonly hasMakeWriteDirty: boolean = false;
  readonly hasSwBits: boolean = false;
  readonly oaSizeChange: boolean = false;
  readonly oaTableXchg: boolean = false;

  abstract loadEntryRaw(pts: PtState): PtEntryType;
  abstract tablePa(pts: PtState): number;
  abstract canHaveLeaf(pts: PtState): boolean;
  abstract numItemsLg2(pts: PtState): number;
  abstract installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void;
  abstract installTable(pts: PtState, tablePa: number, attrs: PtWriteAttrs): boolean;
  abstract attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void;
  abstract iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number;
  abstract iommuFmtInit(common: PtCommon, cfg: Cfg): number;
  iommuFmtHwInfo?(common: PtCommon, topRange: PtRange): HwInfo;

  /** Default: the OA of the entry start, from the item's OA. Override this or itemOa. */
  entryOa(pts: PtState, out: U64Pair): void {
    this.itemOa(pts, out);
    const b = this.entryNumContigLg2(pts) + this.tableItemLg2sz(pts);
    out.hi &= ~maskHi(b);
    out.lo &= ~maskLo(b);
  }

  /** Default: entry OA | (index << item size), as the kernel computes it. */
  itemOa(pts: PtState, out: U64Pair): void {
    this.entryOa(pts, out);
    const isz = this.tableItemLg2sz(pts);
    out.hi |= u64ShlHi(0, pts.index, isz);
    out.lo |= u64ShlLo(0, pts.index, isz);
  }

  /** Default: from this table's granule and table size (PtCommon.granuleLg2sz, the format's unless init chose). */
  tableItemLg2sz(pts: PtState): number {
    const c = pts.range.common;
    return c.granuleLg2sz + (c.tablememLg2sz - Math.log2(this.itemWordSize)) * pts.level;
  }

  pgszLg2ToLevel(common: PtCommon, pgsizeLg2: number): number {
    return ptDefaultPgszLg2ToLevel(common.granuleLg2sz, common.tablememLg2sz, Math.log2(this.itemWordSize), pgsizeLg2);
  }

  entryNumContigLg2(_pts: PtState): number {
    return 0;
  }

  contigCountLg2(_pts: PtState): number {
    return 0;
  }

  /** Default: the single-item size and the one contiguous size of this level. */
  possibleSizes(pts: PtState, out: U64Pair): void {
    if (!this.canHaveLeaf(pts)) {
      out.set(0, 0);
      return;
    }
    const isz = this.tableItemLg2sz(pts);
    const c = this.contigCountLg2(pts) + isz;
    out.set(bitHi(isz) | bitHi(c), bitLo(isz) | bitLo(c));
  }

  entryIsWriteDirty(_pts: PtState): boolean {
    return false;
  }

  entryMakeWriteClean(_pts: PtState): void {}

  entryMakeWriteDirty(_pts: PtState): boolean {
    return false;
  }

  /** Default: dirty tracking exists exactly when the format defines the dirty bit ops. */
  dirtySupported(_common: PtCommon): boolean {
    return this.hasWriteDirty;
  }

  maxOaLg2(_common: PtCommon): number {
    return this.maxOutputAddressLg2;
  }

  hasSystemPageSize(common: PtCommon): boolean {
    return common.granuleLg2sz === 12;
  }

  fullVaPrefix(_common: PtCommon): number {
    return 0;
  }

  /** Default: single stores of zero over 2^numContigLg2 items (a bulk fill for long runs). */
  clearEntries(pts: PtState, numContigLg2: number): void {
    const common = pts.range.common;
    if (common.itemWordsLg2 === 0) ptClearItems32(common, pts.base + pts.index, 1 << numContigLg2);
    else ptClearItems(common, pts.base + (pts.index << 1), 1 << numContigLg2);
  }

  swBit(bitnr: number, _out: U64Pair): void {
    throw new RangeError(`format ${this.name} has no software bits (asked for ${bitnr})`);
  }

  maxSwBit(_common: PtCommon): number {
    return 0;
  }

  skipCleanLeaves(pts: PtState, endIndex: number): number {
    const save = pts.index;
    let i = save + 1;
    for (; i < endIndex; i++) {
      pts.index = i;
      if (this.loadEntryRaw(pts) !== PT_ENTRY_OA || this.entryNumContigLg2(pts) !== 0 || this.entryIsWriteDirty(pts)) break;
    }
    pts.index = save;
    this.loadEntryRaw(pts);
    return i;
  }

  findNonEmpty(pts: PtState, endIndex: number): number {
    const save = pts.index;
    let i = save;
    for (; i < endIndex; i++) {
      pts.index = i;
      if (this.loadEntryRaw(pts) !== PT_ENTRY_EMPTY) break;
    }
    pts.index = save;
    return i;
  }

  installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number {
    const save = pts.index;
    const sizeHi = bitHi(oaszLg2);
    const sizeLo = bitLo(oaszLg2);
    let n = 0;
    for (; n < count; n++) {
      if (this.loadEntryRaw(pts) !== PT_ENTRY_EMPTY) break;
      this.installLeafEntry(pts, oaHi, oaLo, oaszLg2, attrs);
      const sum = u64AddLoSum(oaLo, sizeLo);
      oaHi = u64AddHiOfSum(sum, oaHi, sizeHi);
      oaLo = sum | 0;
      pts.index++;
    }
    if (n !== 0) {
      // the last leaf written, as installLeafEntry leaves it
      pts.index--;
      this.loadEntryRaw(pts);
    }
    pts.index = save;
    return n;
  }

  clearLeafRun(pts: PtState, endIndex: number): number {
    let cleared = 0;
    for (;;) {
      const n = this.entryNumContigLg2(pts);
      this.clearEntries(pts, n);
      cleared += 1 << n;
      pts.index += 1 << n;
      if (pts.index >= endIndex) return cleared;
      pts.type = this.loadEntryRaw(pts);
      if (pts.type !== PT_ENTRY_OA) return cleared;
    }
  }

  clearLeafRunOa(pts: PtState, endIndex: number, oa: U64Pair): number {
    const isz = pts.range.common.itemLg2sz[pts.level]!;
    const next = this.runNext;
    this.entryOa(pts, oa);
    next.set(oa.hi, oa.lo);
    const start = pts.index;
    for (;;) {
      const n = this.entryNumContigLg2(pts);
      this.clearEntries(pts, n);
      pts.index += 1 << n;
      // where this leaf's OA range ends: the next leaf must start there
      const sum = u64AddLoSum(next.lo, u64ShlLo(0, 1, n + isz));
      next.set(u64AddHiOfSum(sum, next.hi, u64ShlHi(0, 1, n + isz)), sum | 0);
      if (pts.index >= endIndex) break;
      pts.type = this.loadEntryRaw(pts);
      if (pts.type !== PT_ENTRY_OA) break;
      const got = this.runOa;
      this.entryOa(pts, got);
      if (got.hi !== next.hi || got.lo !== next.lo) break;
    }
    return pts.index - start;
  }

  /** clearLeafRunOa's scratch (one per format object: the walk allocates nothing). */
  private readonly runNext = new U64Pair();
  private readonly runOa = new U64Pair();
}

/**
 * pt_check_install_leaf_args(): the checked build's test of a leaf install's
 * arguments (OA aligned to the size, a size the level can hold, index
 * aligned to the size). Every format's installLeafEntry calls it when the
 * table is checked (`pts.range.common.checked`); it throws a PtCheckError
 * naming the failed condition where the bad install was written.
 */
export function ptCheckInstallLeafArgs(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number): void {
  const common = pts.range.common;
  const fmt = common.fmt;
  const isz = common.itemLg2sz[pts.level]!;
  const where = `${fmt.name} level ${pts.level} index ${pts.index}, oa ${u64Hex(oaHi, oaLo)}, oasz_lg2 ${oaszLg2}`;
  if (((oaHi & maskHi(oaszLg2)) | (oaLo & maskLo(oaszLg2))) !== 0) {
    ptCheckFailed('pt_check_install_leaf_args: oalog2_mod(oa, oasz_lg2)', where, ptCheckInstallLeafArgs);
  }
  if (fmt.possibleSizes !== PtFormatDefaults.prototype.possibleSizes) {
    if (isz > oaszLg2 || oaszLg2 > isz + fmt.numItemsLg2(pts)) {
      ptCheckFailed(
        'pt_check_install_leaf_args: isz_lg2 > oasz_lg2 || oasz_lg2 > isz_lg2 + pt_num_items_lg2(pts)',
        where,
        ptCheckInstallLeafArgs,
      );
    }
  } else if (oaszLg2 !== isz && oaszLg2 !== isz + fmt.contigCountLg2(pts)) {
    ptCheckFailed(
      'pt_check_install_leaf_args: oasz_lg2 != isz_lg2 && oasz_lg2 != isz_lg2 + pt_contig_count_lg2(pts)',
      where,
      ptCheckInstallLeafArgs,
    );
  }
  if (log2Mod32(pts.index, oaszLg2 - isz) !== 0) {
    ptCheckFailed('pt_check_install_leaf_args: oalog2_mod(pts->index, oasz_lg2 - isz_lg2)', where, ptCheckInstallLeafArgs);
  }
}

const swMask = new U64Pair();

/** pt_test_sw_bit_acquire(): a software bit of the loaded entry (first item of a contiguous entry). */
export function ptTestSwBitAcquire(pts: PtState, bitnr: number): boolean {
  pts.range.common.fmt.swBit(bitnr, swMask);
  return ((pts.entryHi & swMask.hi) | (pts.entryLo & swMask.lo)) !== 0;
}

/** pt_set_sw_bit_release(): set a software bit in the item, by compare-and-exchange. */
export function ptSetSwBitRelease(pts: PtState, bitnr: number): void {
  pts.range.common.fmt.swBit(bitnr, swMask);
  // Single-threaded: the exchange cannot fail, but re-read like the kernel's loop.
  ptItemOr(pts, swMask.hi, swMask.lo);
}

/** Check a format object before use: constants in range, one of entryOa/itemOa defined. */
export function validateFormat(fmt: PtFormat): void {
  const problems: string[] = [];
  if (fmt.itemWordSize !== 8 && fmt.itemWordSize !== 4) problems.push(`itemWordSize ${fmt.itemWordSize} (4 or 8 are supported)`);
  if (!(fmt.maxTopLevel >= 0 && fmt.maxTopLevel <= 5)) problems.push(`maxTopLevel ${fmt.maxTopLevel}`);
  if (!(fmt.maxVaAddressLg2 > 0 && fmt.maxVaAddressLg2 <= 64)) problems.push(`maxVaAddressLg2 ${fmt.maxVaAddressLg2}`);
  if (!(fmt.maxOutputAddressLg2 > 0 && fmt.maxOutputAddressLg2 <= 64)) {
    problems.push(`maxOutputAddressLg2 ${fmt.maxOutputAddressLg2}`);
  }
  if (fmt instanceof PtFormatDefaults) {
    const proto = PtFormatDefaults.prototype;
    if (fmt.entryOa === proto.entryOa && fmt.itemOa === proto.itemOa) {
      problems.push('defines neither entryOa nor itemOa');
    }
  }
  if (problems.length) throw new TypeError(`format ${fmt.name}: ${problems.join('; ')}`);
}
