/**
 * struct pt_range: the target of one walk. `va`..`last` is inclusive (so the
 * top of the 64-bit space needs no 65th bit) and `va` doubles as the walk's
 * cursor. `maxVaszLg2` is the span of the current top, which with
 * DYNAMIC_TOP can be less than the table's maximum.
 */
import { ptCheckFailed } from './check.js';
import type { PtCommon } from './common.js';
import { Errno } from './errno.js';
import { PT_FEAT_SIGN_EXTEND } from './features.js';
import { log2DivEq } from './log2.js';
import { maskHi, maskLo, u64Lt, u64ShrHi, u64ShrLo } from './u64.js';

export class PtRange {
  readonly common: PtCommon;
  /** PA of the top table. */
  topTable = 0;
  topLevel = 0;
  maxVaszLg2 = 0;
  vaHi = 0;
  vaLo = 0;
  lastHi = 0;
  lastLo = 0;

  constructor(common: PtCommon) {
    this.common = common;
  }

  /** Copy every field of `other` (same table). */
  copyFrom(other: PtRange): this {
    this.topTable = other.topTable;
    this.topLevel = other.topLevel;
    this.maxVaszLg2 = other.maxVaszLg2;
    this.vaHi = other.vaHi;
    this.vaLo = other.vaLo;
    this.lastHi = other.lastHi;
    this.lastLo = other.lastLo;
    return this;
  }

  setVa(vaHi: number, vaLo: number, lastHi: number, lastLo: number): this {
    this.vaHi = vaHi | 0;
    this.vaLo = vaLo | 0;
    this.lastHi = lastHi | 0;
    this.lastLo = lastLo | 0;
    return this;
  }
}

/**
 * _pt_top_range(): the range a top table at (topTable, topLevel) spans. With
 * SIGN_EXTEND that is the lower half. Fills `range` and returns it.
 */
export function ptTopRangeOf(range: PtRange, topTable: number, topLevel: number): PtRange {
  const common = range.common;
  range.topTable = topTable;
  range.topLevel = topLevel;
  let maxVasz = common.spanOfTop(topLevel);
  range.maxVaszLg2 = maxVasz;
  if (common.featSignExtend) maxVasz--;
  const p = common.vaPrefix;
  const mh = maskHi(maxVasz);
  const ml = maskLo(maxVasz);
  range.vaHi = p & ~mh;
  range.vaLo = p & ~ml;
  range.lastHi = p | mh;
  range.lastLo = p | ml;
  return range;
}

/** pt_top_range(): the current top's range (lower half with SIGN_EXTEND). */
export function ptTopRange(common: PtCommon, into?: PtRange): PtRange {
  return ptTopRangeOf(into ?? new PtRange(common), common.topTable, common.topLevel);
}

/**
 * pt_all_range(): the whole table. With SIGN_EXTEND the table is treated as
 * linear from 0, which gives the right indexes; va/last are then meaningless.
 */
export function ptAllRange(common: PtCommon, into?: PtRange): PtRange {
  const range = ptTopRange(common, into);
  if (!common.feature(PT_FEAT_SIGN_EXTEND)) return range;
  range.lastHi = maskHi(range.maxVaszLg2);
  range.lastLo = maskLo(range.maxVaszLg2);
  return range;
}

/** pt_upper_range(): the upper half of a SIGN_EXTEND table, else the whole table. */
export function ptUpperRange(common: PtCommon, into?: PtRange): PtRange {
  const range = ptTopRange(common, into);
  if (!common.feature(PT_FEAT_SIGN_EXTEND)) return range;
  const b = range.maxVaszLg2 - 1;
  range.vaHi = ~maskHi(b);
  range.vaLo = ~maskLo(b);
  range.lastHi = -1;
  range.lastLo = -1;
  return range;
}

/** pt_make_range(): the current top with caller bounds; check with {@link ptCheckRange}. */
export function ptMakeRange(common: PtCommon, vaHi: number, vaLo: number, lastHi: number, lastLo: number, into?: PtRange): PtRange {
  const range = into ?? new PtRange(common);
  range.topTable = common.topTable;
  range.topLevel = common.topLevel;
  range.maxVaszLg2 = common.topSpanLg2;
  return range.setVa(vaHi, vaLo, lastHi, lastLo);
}

/** pt_make_child_range(): a copy of `parent` with new bounds. */
export function ptMakeChildRange(parent: PtRange, vaHi: number, vaLo: number, lastHi: number, lastLo: number, into?: PtRange): PtRange {
  const range = (into ?? new PtRange(parent.common)).copyFrom(parent).setVa(vaHi, vaLo, lastHi, lastLo);
  if (parent.common.checked) checkChildRange(range);
  return range;
}

/**
 * pt_check_range(): 0 if va and last sit inside the table's span (and, with
 * SIGN_EXTEND, in the same half), else -ERANGE.
 */
export function ptCheckRange(range: PtRange): number {
  const common = range.common;
  const span = range.maxVaszLg2;
  let prefix: number;
  if (common.checked) checkRangeSpan(range);
  if (common.featSignExtend) {
    const s = span - 1;
    prefix = (u64ShrHi(range.vaHi, range.vaLo, s) | u64ShrLo(range.vaHi, range.vaLo, s)) !== 0 ? -1 : 0;
  } else {
    prefix = common.vaPrefix;
  }
  if (!log2DivEq(range.vaHi, range.vaLo, prefix, prefix, span) || !log2DivEq(range.lastHi, range.lastLo, prefix, prefix, span)) {
    return -Errno.ERANGE;
  }
  return 0;
}

/**
 * For strict tables: with sign extension, va and last each canonical (bits
 * from the VA width's top bit up all equal) and in the same half. pt_check_range
 * lets a range that starts below the hole end above it (Linux 7.0 maps it).
 */
export function ptCheckCanonical(range: PtRange): number {
  const common = range.common;
  if (!common.featSignExtend) return 0;
  const s = common.maxVaszLg2 - 1;
  const a = canonicalHalf(range.vaHi, range.vaLo, s);
  return a !== 2 && a === canonicalHalf(range.lastHi, range.lastLo, s) ? 0 : -Errno.ERANGE;
}

/** 0 for the lower half, 1 for the upper, 2 for a non-canonical address (bits s..63 not all equal). */
function canonicalHalf(hi: number, lo: number, s: number): number {
  const top = u64ShrHi(hi, lo, s) | 0;
  const topLo = u64ShrLo(hi, lo, s) | 0;
  // bits s..63 as a (64 - s)-bit value: all zeros, or all ones.
  if (top === 0 && topLo === 0) return 0;
  return top === maskHi(64 - s) && topLo === maskLo(64 - s) ? 1 : 2;
}

/* The checked build's tests (check.ts), out of line so the hot functions stay small. */

function checkChildRange(range: PtRange): void {
  if (u64Lt(range.lastHi, range.lastLo, range.vaHi, range.vaLo))
    ptCheckFailed('pt_make_child_range: last_va < va', undefined, checkChildRange);
  if (ptCheckRange(range) !== 0) ptCheckFailed('pt_make_child_range: pt_check_range(&range)', undefined, checkChildRange);
}

function checkRangeSpan(range: PtRange): void {
  if (range.maxVaszLg2 === 0) ptCheckFailed('pt_check_range: !range->max_vasz_lg2', undefined, checkRangeSpan);
  if (range.common.featSignExtend && range.common.maxVaszLg2 !== range.maxVaszLg2) {
    ptCheckFailed('pt_check_range: common->max_vasz_lg2 != range->max_vasz_lg2', undefined, checkRangeSpan);
  }
}
