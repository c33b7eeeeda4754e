/**
 * struct pt_state and the iteration primitives that need no format call
 * (pt_iter.h). A state describes one table level of a walk: which table, the
 * index window [index, endIndex), and the entry last loaded (two int32
 * words). Walkers keep one state per level and reuse it.
 */
import { ptCheckFailed } from './check.js';
import { PT_ENTRY_EMPTY, type PtEntryType } from './entry-type.js';
import { log2DivEq, log2ModEqMax, log2ModIsZero } from './log2.js';
import type { PtRange } from './range.js';
import { maskHi, maskLo, u64ShlHi, u64ShlLo, u64ShrLo } from './u64.js';

export class PtState {
  range: PtRange;
  /** PA of the table at this level. */
  table = 0;
  /** The arena holding the table and the word index of its item 0. */
  words: Int32Array;
  base = 0;
  /** PA of the lower table after loading a TABLE entry. */
  tableLower = 0;
  /** The last loaded entry (the kernel's u64 entry). */
  entryHi = 0;
  entryLo = 0;
  type: PtEntryType = PT_ENTRY_EMPTY;
  index = 0;
  endIndex = 0;
  level = 0;

  constructor(range: PtRange) {
    this.range = range;
    this.words = range.common.words;
  }

  /** pt_init(): point at `table` (a PA) at `level`. Resolves the PA once. */
  init(range: PtRange, level: number, table: number): this {
    if (range !== this.range) {
      this.range = range;
      this.words = range.common.words;
    }
    this.level = level;
    this.setTable(table);
    return this;
  }

  /** Point at the table at PA `table` (a descent keeps the range and sets the level itself). */
  setTable(table: number): void {
    this.table = table;
    // Walks check a pointer read from memory before they get here
    // (ptTablePointerOk), so no bounds check on the hot path.
    this.base = (table - this.range.common.memBasePa) >>> 2;
  }

  /** Word offset in {@link words} of item `index` (its low word for 64-bit items). */
  itemWord(index: number): number {
    return this.base + (index << this.range.common.itemWordsLg2);
  }

  /** Low word of item `index` (all of a 32-bit item). For tools and cold paths: the walks read words themselves. */
  itemLo(index: number): number {
    return this.words[this.itemWord(index)]!;
  }

  /** High word of item `index` (0 for 32-bit items). */
  itemHi(index: number): number {
    return this.range.common.itemWordsLg2 === 0 ? 0 : this.words[this.itemWord(index) + 1]!;
  }

  /** Store item `index` (a 32-bit item takes lo only). */
  setItem(index: number, hi: number, lo: number): void {
    const w = this.itemWord(index);
    this.words[w] = lo;
    if (this.range.common.itemWordsLg2 !== 0) this.words[w + 1] = hi;
  }
}

/** pt_init(): a new state for `level` of `range`'s table at `table`. */
export function ptInit(range: PtRange, level: number, table: number): PtState {
  return new PtState(range).init(range, level, table);
}

/** pt_init_top(): a new state at the top of `range`. */
export function ptInitTop(range: PtRange): PtState {
  return ptInit(range, range.topLevel, range.topTable);
}

/** pt_table_item_lg2sz() via the table's precomputed geometry. */
export function ptTableItemLg2sz(pts: PtState): number {
  return pts.range.common.itemLg2sz[pts.level]!;
}

/** pt_num_items_lg2() via the table's precomputed geometry. */
export function ptNumItemsLg2(pts: PtState): number {
  return pts.range.common.numItemsLg2[pts.level]!;
}

/** pt_can_have_table(): every level but 0. */
export function ptCanHaveTable(pts: PtState): boolean {
  return pts.level > 0;
}

/** pt_table_oa_lg2sz(): VA bits the whole table at this level decodes. */
export function ptTableOaLg2sz(pts: PtState): number {
  const range = pts.range;
  if (range.topLevel === pts.level) return range.maxVaszLg2;
  const common = range.common;
  const n = common.numItemsLg2[pts.level]! + common.itemLg2sz[pts.level]!;
  return Math.min(n, common.maxVaszLg2);
}

/** pt_range_to_index(): first index of the walk at this level. */
export function ptRangeToIndex(pts: PtState): number {
  const range = pts.range;
  const common = range.common;
  const level = pts.level;
  const isz = common.itemLg2sz[level]!;
  if (common.checked) checkRangeToIndex(pts);
  if (range.topLevel === level) {
    const b = range.maxVaszLg2;
    return u64ShrLo(range.vaHi & maskHi(b), range.vaLo & maskLo(b), isz) >>> 0;
  }
  return ptVaIndex(range.vaHi, range.vaLo, isz, common.numItemsLg2[level]!);
}

/**
 * (va >> isz) mod 2^n: the index of va in a table below the top, whose
 * index bits never reach past bit 63.
 */
export function ptVaIndex(hi: number, lo: number, isz: number, n: number): number {
  const mask = ~(-1 << n);
  if (isz >= 32) return (hi >>> (isz - 32)) & mask;
  if (isz + n <= 32) return (lo >>> isz) & mask;
  return ((lo >>> isz) | (hi << (32 - isz))) & mask;
}

/** pt_range_to_end_index(): one past the last index of the walk at this level. */
export function ptRangeToEndIndex(pts: PtState): number {
  const range = pts.range;
  const common = range.common;
  const isz = common.itemLg2sz[pts.level]!;
  if (range.vaHi === range.lastHi && range.vaLo === range.lastLo) return pts.index + 1;
  if (range.topLevel === pts.level) {
    const b = range.maxVaszLg2;
    return (u64ShrLo(range.lastHi & maskHi(b), range.lastLo & maskLo(b), isz) >>> 0) + 1;
  }
  const n = common.numItemsLg2[pts.level]!;
  if (log2DivEq(range.vaHi, range.vaLo, range.lastHi, range.lastLo, n + isz)) {
    return ptVaIndex(range.lastHi, range.lastLo, isz, n) + 1;
  }
  return 1 << n;
}

/** _pt_iter_first(): set the index window from the range. */
export function ptIterFirst(pts: PtState): void {
  pts.index = ptRangeToIndex(pts);
  pts.endIndex = ptRangeToEndIndex(pts);
  if (pts.range.common.checked) checkIterFirst(pts);
}

/*
 * The checked build's tests (check.ts), out of line so the hot functions
 * stay small enough for V8 to inline.
 */

function checkRangeToIndex(pts: PtState): void {
  if (pts.level > pts.range.topLevel) {
    ptCheckFailed('pt_range_to_index: level > top_level', `level ${pts.level}, top ${pts.range.topLevel}`, checkRangeToIndex);
  }
}

function checkIterFirst(pts: PtState): void {
  if (pts.index > pts.endIndex) ptCheckFailed('_pt_iter_first: index > end_index', `${pts.index} > ${pts.endIndex}`, checkIterFirst);
}

/**
 * pt_index_to_va(): move the range cursor to pts.index (lazily; the kernel
 * only does this where the VA is needed).
 */
export function ptIndexToVa(pts: PtState): void {
  const range = pts.range;
  const isz = range.common.itemLg2sz[pts.level]!;
  const idx = pts.index;
  const lowerHi = u64ShlHi(0, idx, isz);
  const lowerLo = u64ShlLo(0, idx, isz);
  const b = ptTableOaLg2sz(pts);
  const mh = maskHi(b);
  const ml = maskLo(b);
  range.vaHi = (range.vaHi & ~mh) | lowerHi;
  range.vaLo = (range.vaLo & ~ml) | lowerLo;
}

/**
 * pt_entry_fully_covered(): the range starts exactly at the item/entry of
 * size 2^oaszLg2 under the cursor and reaches its end.
 */
export function ptEntryFullyCovered(pts: PtState, oaszLg2: number): boolean {
  const range = pts.range;
  if (!log2ModIsZero(range.vaHi, range.vaLo, oaszLg2)) return false;
  if (!log2DivEq(range.vaHi, range.vaLo, range.lastHi, range.lastLo, oaszLg2)) return true;
  return log2ModEqMax(range.lastHi, range.lastLo, oaszLg2);
}

/** _pt_advance(): add 2^countLg2 to the index, rounding down to that alignment. */
export function ptAdvance(pts: PtState, countLg2: number): void {
  pts.index = (pts.index + (1 << countLg2)) & (-1 << countLg2);
}
