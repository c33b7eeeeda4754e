/**
 * check_all_levels() from kunit_generic_pt.h: map one smallest page at the
 * highest VA (growing a DYNAMIC_TOP table to its maximum) so every level
 * exists, then call `fn` at each level with a state on an index the test may
 * use (index 0, or 1 where index 0 holds the tree the growth moved down).
 */
import {
  PT_ENTRY_TABLE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_SIGN_EXTEND,
  maskHi,
  maskLo,
  ptCanHaveTable,
  ptDescend,
  ptIndexToVa,
  ptInit,
  ptIterFirst,
  ptLoadSingleEntry,
  ptMakeRange,
  ptTableOaLg2sz,
  ptTopRange,
  ptWalkRange,
  u64ToBigInt,
  hiOfBig,
  loOfBig,
  type PtLevelFn,
  type PtState,
} from '@genpt/pt-core';
import { iommuMap } from '@genpt/iommu-ops';
import { expect } from 'vitest';
import type { KunitPriv } from './fixture.js';

export const RW = 1 | 2;

/** do_map(): iommu_map read/write, which must succeed. */
export function doMap(priv: KunitPriv, va: bigint, pa: bigint, len: bigint): void {
  iommuMap(priv.table.domain, va, pa, len, RW);
}

export function checkAllLevels(priv: KunitPriv, fn: (pts: PtState) => void): void {
  const common = priv.common;
  const range = ptTopRange(common);
  let last = u64ToBigInt(range.lastHi, range.lastLo);
  if (common.feature(PT_FEAT_DYNAMIC_TOP) && common.maxVaszLg2 > range.maxVaszLg2) {
    const b = common.maxVaszLg2;
    last = u64ToBigInt(range.vaHi | maskHi(b), range.vaLo | maskLo(b));
  }
  // Map a page at the highest VA so every level is populated.
  const va = last - (priv.smallestPgsz - 1n);
  doMap(priv, va, 0n, priv.smallestPgsz);

  const r = ptMakeRange(common, hiOfBig(va), loOfBig(va), hiOfBig(last), loOfBig(last));
  const visit: PtLevelFn<null> = (rr, arg, level, table) => {
    const pts = ptInit(rr, level, table);
    const isz = common.itemLg2sz[level]!;
    ptIterFirst(pts);
    // With the full VA in use, the path is the last index of every table.
    if (common.feature(PT_FEAT_SIGN_EXTEND) && level === rr.topLevel) {
      expect(pts.index).toBe(2 ** (rr.maxVaszLg2 - 1 - isz) - 1);
    } else {
      expect(pts.index).toBe(2 ** (ptTableOaLg2sz(pts) - isz) - 1);
    }
    if (ptCanHaveTable(pts)) {
      ptLoadSingleEntry(pts);
      expect(pts.type).toBe(PT_ENTRY_TABLE);
      expect(ptDescend(pts, arg, visit)).toBe(0);
      // Index 0 is the test's.
      expect(pts.index).not.toBe(0);
    }
    // A table with a single item would defeat this approach.
    expect(pts.endIndex).toBeGreaterThan(1);
    // After growth index 0 holds the original tree: use index 1 then.
    pts.index = 0;
    ptIndexToVa(pts);
    ptLoadSingleEntry(pts);
    if (pts.type === PT_ENTRY_TABLE && pts.endIndex > 2) {
      pts.index = 1;
      ptIndexToVa(pts);
    }
    fn(pts);
    return 0;
  };
  expect(ptWalkRange(r, visit, null)).toBe(0);
}
