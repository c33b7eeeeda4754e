/**
 * Range/state iteration over a test-only format: descent, ascent, table ends,
 * the top of the range, sign-extended halves and the full 64-bit VA.
 */
import { describe, expect, it } from 'vitest';
import {
  bit,
  Errno,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
  ptAllRange,
  ptCheckRange,
  ptDescend,
  ptEntryFullyCovered,
  ptEntryOaExact,
  ptInit,
  ptIterFirst,
  ptIterLoad,
  ptLoadSingleEntry,
  ptMakeRange,
  ptNextEntry,
  ptRangeSlice,
  ptTableOaLg2sz,
  ptTopMemsizeLg2,
  ptTopRange,
  ptUpperRange,
  ptWalkDescendAll,
  ptWalkRange,
  PtWriteAttrs,
  U64Pair,
  u64Hex,
  type PtCommon,
  type PtLevelFn,
  type PtRange,
} from '../src/index.js';
import { big, hiOf, loOf } from './ref.js';
import { makeToyTable, toy } from '../src/testing/toy-format.js';

const attrs = new PtWriteAttrs();

function rangeOf(common: PtCommon, va: bigint, last: bigint): PtRange {
  return ptMakeRange(common, hiOf(va), loOf(va), hiOf(last), loOf(last));
}

/** Install a leaf of the item size at `leafLevel`, creating tables on the way. */
function mapLeaf(common: PtCommon, va: bigint, leafLevel: number, oa: bigint): void {
  const range = rangeOf(common, va, va);
  expect(ptCheckRange(range)).toBe(0);
  const fn: PtLevelFn<null> = (r, arg, level, table) => {
    const pts = ptInit(r, level, table);
    const type = ptLoadSingleEntry(pts);
    if (level === leafLevel) {
      expect(type).toBe(PT_ENTRY_EMPTY);
      toy.installLeafEntry(pts, hiOf(oa), loOf(oa), common.itemLg2sz[level]!, attrs);
      return 0;
    }
    if (type === PT_ENTRY_EMPTY) {
      const pa = common.mem.alloc(12);
      expect(toy.installTable(pts, pa, attrs)).toBe(true);
      ptLoadSingleEntry(pts);
    }
    expect(pts.type).toBe(PT_ENTRY_TABLE);
    return ptDescend(pts, arg, fn);
  };
  expect(ptWalkRange(range, fn, null)).toBe(0);
}

interface Visit {
  level: number;
  index: number;
  va: string;
  type: string;
}

/** Walk a range, recording every loaded entry with the cursor VA at that moment. */
function visit(range: PtRange): Visit[] {
  const out: Visit[] = [];
  const fn: PtLevelFn<null> = (r, arg, level, table) => {
    const pts = ptInit(r, level, table);
    for (ptIterFirst(pts); ptIterLoad(pts); ptNextEntry(pts)) {
      if (pts.type === PT_ENTRY_EMPTY) continue;
      out.push({
        level,
        index: pts.index,
        va: u64Hex(r.vaHi, r.vaLo),
        type: pts.type === PT_ENTRY_OA ? 'L' : 'T',
      });
      if (pts.type === PT_ENTRY_TABLE) {
        const ret = ptDescend(pts, arg, fn);
        if (ret) return ret;
      }
    }
    return 0;
  };
  expect(ptWalkRange(range, fn, null)).toBe(0);
  return out;
}

const leaves = (v: Visit[]) => v.filter((x) => x.type === 'L').map((x) => [x.level, x.index, x.va]);

describe('a 3-level, 39-bit table', () => {
  const common = makeToyTable({ topLevel: 2, vaszLg2: 39 });
  mapLeaf(common, 0x1ff000n, 0, 0x1000n);
  mapLeaf(common, 0x200000n, 0, 0x2000n);
  mapLeaf(common, 0x3ff000n, 0, 0x3000n);
  mapLeaf(common, 0x40000000n, 1, 0x40000000n);
  mapLeaf(common, 0x7ffffff000n, 0, 0x5000n);

  it('spans 2^39 from the top', () => {
    const r = ptTopRange(common);
    expect(r.maxVaszLg2).toBe(39);
    expect(big(r.vaHi, r.vaLo)).toBe(0n);
    expect(big(r.lastHi, r.lastLo)).toBe((1n << 39n) - 1n);
    expect(ptCheckRange(r)).toBe(0);
    expect(ptCheckRange(rangeOf(common, 0n, 1n << 39n))).toBe(-Errno.ERANGE);
    expect(ptTopMemsizeLg2(common, 2)).toBe(12);
  });

  it('descends, ascends and keeps the cursor VA right across table ends', () => {
    const v = visit(ptTopRange(common));
    expect(leaves(v)).toEqual([
      [0, 511, '0x1ff000'],
      [0, 0, '0x200000'],
      [0, 511, '0x3ff000'],
      [1, 0, '0x40000000'],
      [0, 511, '0x7ffffff000'],
    ]);
    // The path to the top-most page: the last index at every level.
    expect(v.filter((x) => x.va === '0x7fc0000000' || x.va === '0x7fffe00000').map((x) => [x.level, x.index])).toEqual([
      [2, 511],
      [1, 511],
    ]);
  });

  it('starts mid-item and stops at the end of a table', () => {
    expect(leaves(visit(rangeOf(common, 0x1ff800n, 0x200fffn)))).toEqual([
      [0, 511, '0x1ff800'],
      [0, 0, '0x200000'],
    ]);
    expect(leaves(visit(rangeOf(common, 0x1ff000n, 0x1fffffn)))).toEqual([[0, 511, '0x1ff000']]);
    expect(leaves(visit(rangeOf(common, 0x7ffffff000n, 0x7fffffffffn)))).toEqual([[0, 511, '0x7ffffff000']]);
  });

  it('computes the index window per level', () => {
    const r = rangeOf(common, 0x1ff000n, 0x400fffn);
    const pts = ptInit(r, 1, 0);
    ptIterFirst(pts);
    expect([pts.index, pts.endIndex]).toEqual([0, 3]);
    pts.level = 0;
    ptIterFirst(pts);
    expect([pts.index, pts.endIndex]).toEqual([511, 512]);
    const single = rangeOf(common, 0x3ff000n, 0x3ff000n);
    const p2 = ptInit(single, 0, 0);
    ptIterFirst(p2);
    expect([p2.index, p2.endIndex]).toEqual([511, 512]);
  });

  it('reads an exact OA with the cursor offset inside the entry', () => {
    const r = rangeOf(common, 0x40012345n, 0x40012345n);
    const fn: PtLevelFn<U64Pair> = (rr, out, level, table) => {
      const pts = ptInit(rr, level, table);
      const t = ptLoadSingleEntry(pts);
      if (t === PT_ENTRY_TABLE) return ptDescend(pts, out, fn);
      if (t === PT_ENTRY_OA) {
        ptEntryOaExact(pts, out);
        return 0;
      }
      return -Errno.ENOENT;
    };
    const out = new U64Pair();
    expect(ptWalkRange(r, fn, out)).toBe(0);
    expect(out.bigint()).toBe(0x40012345n);
  });

  it('slices, descends over a whole item and tests coverage', () => {
    const r = rangeOf(common, 0x200000n, 0x3fffffn);
    const pts = ptInit(r, 1, 0);
    ptIterFirst(pts);
    expect(ptEntryFullyCovered(pts, 21)).toBe(true);
    const partial = rangeOf(common, 0x201000n, 0x3fffffn);
    expect(ptEntryFullyCovered(ptInit(partial, 1, 0), 21)).toBe(false);
    const short = rangeOf(common, 0x200000n, 0x3fefffn);
    expect(ptEntryFullyCovered(ptInit(short, 1, 0), 21)).toBe(false);
    const over = rangeOf(common, 0x200000n, 0x5fffffn);
    expect(ptEntryFullyCovered(ptInit(over, 1, 0), 21)).toBe(true);

    const top = ptInit(ptTopRange(common), 2, common.topTable);
    const s = ptRangeSlice(top, 1, 3);
    expect([big(s.vaHi, s.vaLo), big(s.lastHi, s.lastLo)]).toEqual([1n << 30n, (3n << 30n) - 1n]);
    expect(ptTableOaLg2sz(top)).toBe(39);

    // Descend over everything under the level 1 item holding 0x200000.
    const at = rangeOf(common, 0x234000n, 0x234000n);
    const l1 = ptInit(at, 2, common.topTable);
    ptLoadSingleEntry(l1);
    const seen: string[] = [];
    const collect: PtLevelFn<null> = (rr, arg, level, table) => {
      const p = ptInit(rr, level, table);
      for (ptIterFirst(p); ptIterLoad(p); ptNextEntry(p)) {
        if (p.type === PT_ENTRY_OA) seen.push(u64Hex(rr.vaHi, rr.vaLo));
        if (p.type === PT_ENTRY_TABLE) ptDescend(p, arg, collect);
      }
      return 0;
    };
    expect(ptWalkDescendAll(l1, collect, null)).toBe(0);
    expect(seen).toEqual(['0x1ff000', '0x200000', '0x3ff000']);
  });
});

describe('a sign-extended 48-bit table', () => {
  const common = makeToyTable({ topLevel: 3, vaszLg2: 48, features: bit(PT_FEAT_SIGN_EXTEND) });
  mapLeaf(common, 0x7ffffffff000n, 0, 0x1000n);
  mapLeaf(common, 0xffff800000000000n, 0, 0x2000n);
  mapLeaf(common, 0xfffffffffffff000n, 0, 0x3000n);

  it('defaults to the lower half and reaches the upper half explicitly', () => {
    const lower = ptTopRange(common);
    expect([u64Hex(lower.vaHi, lower.vaLo), u64Hex(lower.lastHi, lower.lastLo)]).toEqual(['0x0', '0x7fffffffffff']);
    const upper = ptUpperRange(common);
    expect([u64Hex(upper.vaHi, upper.vaLo), u64Hex(upper.lastHi, upper.lastLo)]).toEqual(['0xffff800000000000', '0xffffffffffffffff']);
    expect(leaves(visit(lower))).toEqual([[0, 511, '0x7ffffffff000']]);
    expect(leaves(visit(upper))).toEqual([
      [0, 0, '0xffff800000000000'],
      [0, 511, '0xfffffffffffff000'],
    ]);
    const topIndexes = visit(ptUpperRange(common))
      .filter((x) => x.level === 3)
      .map((x) => x.index);
    expect(topIndexes).toEqual([256, 511]);
  });

  it('rejects ranges in or across the non-canonical hole', () => {
    expect(ptCheckRange(rangeOf(common, 0x7ffffffff000n, 0xffff800000000000n))).toBe(-Errno.ERANGE);
    expect(ptCheckRange(rangeOf(common, 0x800000000000n, 0x800000000fffn))).toBe(-Errno.ERANGE);
    // Like the kernel, only the bits above the sign bit are compared with the
    // prefix: with bits 63:48 all ones, bit 47 clear still passes the check.
    expect(ptCheckRange(rangeOf(common, 0xffff7ffffffff000n, 0xffff7fffffffffffn))).toBe(0);
    expect(ptCheckRange(rangeOf(common, 0xffff800000000000n, 0xffffffffffffffffn))).toBe(0);
  });

  it('walks every entry with the all-range (indexes right, VA linear)', () => {
    const all = ptAllRange(common);
    expect(u64Hex(all.lastHi, all.lastLo)).toBe('0xffffffffffff');
    expect(visit(all).filter((x) => x.type === 'L')).toHaveLength(3);
  });
});

describe('a full 64-bit table', () => {
  const common = makeToyTable({ topLevel: 5, vaszLg2: 64, features: bit(PT_FEAT_FULL_VA) });
  mapLeaf(common, 0n, 0, 0x1000n);
  mapLeaf(common, 0xfffffffffffff000n, 0, 0x2000n);

  it('spans 0..2^64-1 and finds the very top page at index 127', () => {
    const r = ptTopRange(common);
    expect(r.maxVaszLg2).toBe(64);
    expect(u64Hex(r.lastHi, r.lastLo)).toBe('0xffffffffffffffff');
    expect(ptCheckRange(r)).toBe(0);
    const v = visit(r);
    expect(leaves(v)).toEqual([
      [0, 0, '0x0'],
      [0, 511, '0xfffffffffffff000'],
    ]);
    expect(v.filter((x) => x.level === 5).map((x) => x.index)).toEqual([0, 127]);
    expect(ptTopMemsizeLg2(common, 5)).toBe(12);
  });
});

describe('a DYNAMIC_TOP table', () => {
  const common = makeToyTable({ topLevel: 2, vaszLg2: 64, features: bit(PT_FEAT_DYNAMIC_TOP) });

  it('spans only what its current top covers', () => {
    const r = ptTopRange(common);
    expect(r.maxVaszLg2).toBe(39);
    expect(ptCheckRange(rangeOf(common, 1n << 39n, 1n << 39n))).toBe(-Errno.ERANGE);
    expect(ptTopMemsizeLg2(common, 2)).toBe(12);
  });
});
