/**
 * Walk plumbing (pt_iter.h): a walker is `fn(range, arg, level, table)` over
 * its slice of one table; it descends by calling itself (or another walker)
 * one level down on the lower table, and ascends by returning. A non-zero
 * return (a negative errno) ends the walk.
 */
import { ptWarned } from './check.js';
import type { PtCommon } from './common.js';
import { Errno } from './errno.js';
import { PT_FEAT_DYNAMIC_TOP } from './features.js';
import { type PtRange, ptMakeChildRange } from './range.js';
import { ptTableOaLg2sz, type PtState } from './state.js';
import { ptTablePointerFault, ptTablePointerOk } from './table-pointer.js';
import { maskHi, maskLo, u64DecHi, u64DecLo, u64ShlHi, u64ShlLo } from './u64.js';

/** A level walker: `table` is the PA of the table at `level`. */
export type PtLevelFn<A> = (range: PtRange, arg: A, level: number, table: number) => number;

/** pt_descend(): run `fn` on the lower table of the TABLE entry pts holds. */
export function ptDescend<A>(pts: PtState, arg: A, fn: PtLevelFn<A>): number {
  // Kept this small: V8 inlines it into every walker unconditionally.
  if (pts.tableLower === 0) return descendNoTable(pts);
  const common = pts.range.common;
  if (!ptTablePointerOk(common, pts.tableLower)) return ptTablePointerFault(common, pts.tableLower, pts.level - 1);
  return fn(pts.range, arg, pts.level - 1, pts.tableLower);
}

/** pt_walk_range(): start `fn` at the top of `range`. */
export function ptWalkRange<A>(range: PtRange, fn: PtLevelFn<A>, arg: A): number {
  return fn(range, arg, range.topLevel, range.topTable);
}

/**
 * pt_walk_descend(): a new walk over [va, last] inside the item pts points
 * at, in the lower table; pts and its range are left alone.
 */
export function ptWalkDescend<A>(
  pts: PtState,
  vaHi: number,
  vaLo: number,
  lastHi: number,
  lastLo: number,
  fn: PtLevelFn<A>,
  arg: A,
  into?: PtRange,
): number {
  const range = ptMakeChildRange(pts.range, vaHi, vaLo, lastHi, lastLo, into);
  if (pts.level === 0 || pts.tableLower === 0) {
    ptWarned(pts.range.common, pts.level === 0 ? 'pt_walk_descend: !pt_can_have_table(pts)' : 'pt_walk_descend: !pts->table_lower');
    return -Errno.EINVAL;
  }
  const common = pts.range.common;
  if (!ptTablePointerOk(common, pts.tableLower)) return ptTablePointerFault(common, pts.tableLower, pts.level - 1);
  return fn(range, arg, pts.level - 1, pts.tableLower);
}

/** pt_walk_descend_all(): a new walk over the whole lower table of the item pts points at. */
export function ptWalkDescendAll<A>(parentPts: PtState, fn: PtLevelFn<A>, arg: A, into?: PtRange): number {
  const r = parentPts.range;
  const isz = r.common.itemLg2sz[parentPts.level]!;
  const mh = maskHi(isz);
  const ml = maskLo(isz);
  return ptWalkDescend(parentPts, r.vaHi & ~mh, r.vaLo & ~ml, r.vaHi | mh, r.vaLo | ml, fn, arg, into);
}

/** pt_range_slice(): a child range covering indexes [startIndex, endIndex) of pts's table. */
export function ptRangeSlice(pts: PtState, startIndex: number, endIndex: number, into?: PtRange): PtRange {
  const r = pts.range;
  const isz = r.common.itemLg2sz[pts.level]!;
  const b = ptTableOaLg2sz(pts);
  const mh = maskHi(b);
  const ml = maskLo(b);
  const sHi = u64ShlHi(0, startIndex, isz);
  const sLo = u64ShlLo(0, startIndex, isz);
  // (endIndex << isz) - 1
  const nHi = u64ShlHi(0, endIndex, isz);
  const nLo = u64ShlLo(0, endIndex, isz);
  const eHi = u64DecHi(nHi, nLo);
  const eLo = u64DecLo(nHi, nLo);
  return ptMakeChildRange(
    r,
    (r.vaHi & ~mh) | (sHi & mh),
    (r.vaLo & ~ml) | (sLo & ml),
    (r.vaHi & ~mh) | (eHi & mh),
    (r.vaLo & ~ml) | (eLo & ml),
    into,
  );
}

/**
 * pt_top_memsize_lg2(): bytes (lg2) to allocate for a top table at
 * `topLevel`; with DYNAMIC_TOP sized for the table it can grow into, and never
 * below what the hardware root pointer can address.
 */
export function ptTopMemsizeLg2(common: PtCommon, topLevel: number): number {
  let numItemsLg2 = common.maxVaszLg2 - common.itemLg2sz[topLevel]!;
  if (topLevel !== common.fmt.maxTopLevel && common.feature(PT_FEAT_DYNAMIC_TOP)) {
    numItemsLg2 = Math.min(numItemsLg2, common.numItemsLg2[topLevel]!);
  }
  return Math.max(common.topPhysMaskFfs, numItemsLg2 + common.itemBytesLg2);
}

/** ptDescend()'s PT_WARN_ON, out of line. */
function descendNoTable(pts: PtState): number {
  ptWarned(pts.range.common, 'pt_descend: !pts->table_lower');
  return -Errno.EINVAL;
}
