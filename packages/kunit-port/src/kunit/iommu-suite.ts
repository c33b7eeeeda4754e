/**
 * The kernel's iommu suite (kunit_iommu_pt.h, `<fmt>_iommu_test`): the
 * algorithms through the iommu core calls, with the kernel's leak check
 * (every table page returned) after each test.
 */
import {
  IntervalMap,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_SIGN_EXTEND,
  isPtError,
  log2SetModBig,
  log2ToMaxIntBig,
  ptTopRange,
  ptUpperRange,
  U64_MAX,
  u64ToBigInt,
  type PtRange,
} from '@genpt/pt-core';
import { iommuMap, iommuUnmap } from '@genpt/iommu-ops';
import { describe, expect, it, type TestContext } from 'vitest';
import { doMap, RW } from './check-levels.js';
import { checkIova, countValids, countValidsPerSize, countValidsSingle, doUnmap } from './count.js';
import { cfgName, KunitPriv, type KunitFormat } from './fixture.js';
import { Rng } from './random.js';
import type { SuiteOptions } from './generic-suite.js';

type Case = (priv: KunitPriv, ctx: TestContext, rng: Rng) => void;

const SZ_1G = 1n << 30n;
const SZ_2G = 1n << 31n;
const SZ_16G = 1n << 34n;
const MAPLE_RESERVED_RANGE = 4096n;

function vaOf(r: PtRange): bigint {
  return u64ToBigInt(r.vaHi, r.vaLo);
}

function lastOf(r: PtRange): bigint {
  return u64ToBigInt(r.lastHi, r.lastLo);
}

function align(v: bigint, a: bigint): bigint {
  return (v + a - 1n) & ~(a - 1n) & U64_MAX;
}

const test_increase_level: Case = (priv, ctx) => {
  const common = priv.common;
  if (!common.feature(PT_FEAT_DYNAMIC_TOP)) ctx.skip('PT_FEAT_DYNAMIC_TOP not set for this format');
  expect(common.maxVaszLg2).toBeGreaterThan(ptTopRange(common).maxVaszLg2);
  // Add every possible level up to the maximum
  while (common.maxVaszLg2 !== ptTopRange(common).maxVaszLg2) {
    const top = ptTopRange(common);
    if (vaOf(top) === 0n) doMap(priv, lastOf(top) + 1n, 0n, priv.smallestPgsz);
    else doMap(priv, vaOf(top) - priv.smallestPgsz, 0n, priv.smallestPgsz);
    expect(ptTopRange(common).topLevel).toBe(top.topLevel + 1);
    expect(common.maxVaszLg2).toBeGreaterThanOrEqual(ptTopRange(common).maxVaszLg2);
  }
};

const test_map_simple: Case = (priv) => {
  const bitmap = priv.safePgsizeBitmap;
  let range = ptTopRange(priv.common);
  // Map every reported page size
  let cur = vaOf(range) + priv.smallestPgsz * 256n;
  for (let lg2 = 0; lg2 !== 64; lg2++) {
    const len = 1n << BigInt(lg2);
    if (!(bitmap & len)) continue;
    const paddr = log2SetModBig(priv.testOa, 0n, lg2);
    cur = align(cur, len);
    doMap(priv, cur, paddr, len);
    if (len <= SZ_2G) checkIova(priv, cur, paddr, len);
    cur += len;
  }
  // The read side sees exactly one leaf of every size
  const per = countValidsPerSize(priv);
  for (let lg2 = 0; lg2 !== 64; lg2++) expect(per[lg2], `leaves of 2^${lg2}`).toBe(bitmap & (1n << BigInt(lg2)) ? 1 : 0);
  // Unmap works
  range = ptTopRange(priv.common);
  cur = vaOf(range) + priv.smallestPgsz * 256n;
  for (let lg2 = 0; lg2 !== 64; lg2++) {
    const len = 1n << BigInt(lg2);
    if (!(bitmap & len)) continue;
    cur = align(cur, len);
    doUnmap(priv, cur, len);
    cur += len;
  }
  expect(countValids(priv)).toBe(0);
};

/**
 * Map a region small, unmap it leaving empty tables behind, then map the next
 * larger size over it: the tables must turn into leaves.
 */
const test_map_table_to_oa: Case = (priv) => {
  const limited = priv.pgsizeBitmap % SZ_16G;
  const range = ptTopRange(priv.common);
  const maxPgsize = 1n << BigInt(limited.toString(2).length - 1);
  expect(priv.pgsizeBitmap & maxPgsize).not.toBe(0n);
  for (let lg2 = 0; lg2 !== 64; lg2++) {
    const len = 1n << BigInt(lg2);
    if (!(priv.pgsizeBitmap & len)) continue;
    if (len > maxPgsize) break;
    const paddr = log2SetModBig(priv.testOa, 0n, lg2);
    const cur = align(vaOf(range) + priv.smallestPgsz * 256n, maxPgsize);
    for (let off = 0n; off !== maxPgsize; off += len) doMap(priv, cur + off, paddr + off, len);
    checkIova(priv, cur, paddr, maxPgsize);
    expect(countValidsSingle(priv, len)).toBe(Number(maxPgsize >> BigInt(lg2)));
    if (len === maxPgsize) {
      doUnmap(priv, cur, maxPgsize);
    } else {
      doUnmap(priv, cur, maxPgsize / 2n);
      for (let off = maxPgsize / 2n; off !== maxPgsize; off += len) doUnmap(priv, cur + off, len);
    }
    expect(countValids(priv)).toBe(0);
  }
};

/** Unmapping a small page at the start of a large one removes the large one. */
const test_unmap_split: Case = (priv, ctx) => {
  const top = ptTopRange(priv.common);
  const bitmap = priv.safePgsizeBitmap;
  const unmap = (va: bigint, len: bigint) => BigInt(iommuUnmap(priv.table.domain, va, len));
  let count = 0;
  for (let lg2 = 0; lg2 !== 64; lg2++) {
    const baseLen = 1n << BigInt(lg2);
    if (!(bitmap & baseLen)) continue;
    for (let next = lg2 + 1; next !== 64; next++) {
      const nextLen = 1n << BigInt(next);
      if (!(bitmap & nextLen)) continue;
      const va = vaOf(top);
      doMap(priv, va, 0n, nextLen);
      expect(unmap(va, baseLen)).toBe(nextLen);
      // Make sure unmap doesn't keep going
      doMap(priv, va, 0n, nextLen);
      doMap(priv, va + nextLen, 0n, nextLen);
      expect(unmap(va, baseLen)).toBe(nextLen);
      expect(unmap(va + nextLen, nextLen)).toBe(nextLen);
      count++;
    }
  }
  if (count === 0) ctx.skip('Test needs two page sizes');
};

/** unmap_collisions(): unmap (and mtree_erase) every recorded range overlapping [start, last]. */
function unmapCollisions(priv: KunitPriv, mt: IntervalMap, start: bigint, last: bigint): void {
  for (const r of mt.overlapping(start, last)) {
    mt.remove(r);
    const len = r.last - r.start + 1n;
    const paddr = r.start & log2ToMaxIntBig(priv.common.maxOaszLg2);
    checkIova(priv, r.start, paddr, len);
    doUnmap(priv, r.start, len);
  }
}

function clampRange(priv: KunitPriv, range: { va: bigint; last: bigint }): void {
  if (range.last - range.va > SZ_1G) range.last = range.va + SZ_1G;
  expect(range.last).not.toBe(U64_MAX);
  if (range.va <= MAPLE_RESERVED_RANGE) range.va = align(MAPLE_RESERVED_RANGE, priv.smallestPgsz);
}

/**
 * Map and unmap random ranges (that can use large pages) in a window small
 * enough to collide; a collision unmaps what it hit and maps again.
 */
const test_random_map: Case = (priv, _ctx, rng) => {
  const upperR = ptUpperRange(priv.common);
  const topR = ptTopRange(priv.common);
  const upper = { va: vaOf(upperR), last: lastOf(upperR) };
  const top = { va: vaOf(topR), last: lastOf(topR) };
  // The maple tree of mapped ranges: map() fails on overlap, as mtree_insert_range() does.
  const mt = new IntervalMap();
  clampRange(priv, top);
  clampRange(priv, upper);
  const pgsz = priv.smallestPgsz;
  const U32_MAX = 0xffffffffn;
  const min = (a: bigint, b: bigint) => (a < b ? a : b);

  for (let iter = 0; iter !== 1000; iter++) {
    let range = top;
    if (priv.common.feature(PT_FEAT_SIGN_EXTEND) && rng.u32Inclusive(0, 1)) range = upper;
    let start = BigInt(rng.u32Below(Number(min(U32_MAX, range.last - range.va))));
    // (as in the kernel: the bound uses the start before the base is added)
    let end = BigInt(rng.u32Below(Number(min(U32_MAX, (range.last - start) & U64_MAX))));
    start = start & ~(pgsz - 1n);
    end = align(end, pgsz);
    start += range.va;
    end += start;
    if (start < range.va || end > range.last + 1n || start >= end) continue;

    // Try overmapping to test the failure handling
    const paddr = start & log2ToMaxIntBig(priv.common.maxOaszLg2);
    try {
      iommuMap(priv.table.domain, start, paddr, end - start, RW);
    } catch (e) {
      expect(isPtError(e) ? e.code : e).toBe('EADDRINUSE');
      unmapCollisions(priv, mt, start, end - 1n);
      doMap(priv, start, paddr, end - start);
    }
    mt.map(start, end - 1n, paddr, RW);
    checkIova(priv, start, paddr, end - start);
  }
  unmapCollisions(priv, mt, 0n, U64_MAX);
  expect(countValids(priv)).toBe(0);
};

/** Regression: a 128 KiB map ending just below a 2 MiB boundary. */
const test_pgsize_boundary: Case = (priv, ctx) => {
  const top = ptTopRange(priv.common);
  if (vaOf(top) !== 0n || lastOf(top) < 0xfef9ffffn || priv.smallestPgsz !== 0x1000n) {
    ctx.skip('Format does not have the required range');
  }
  // Not in the kernel's test, whose formats all hold a 38-bit OA: the ARMv7
  // short descriptor's 32 (or 35) bits cannot.
  if (priv.common.maxOaszLg2 < 38) ctx.skip('Format does not have the required OA range');
  doMap(priv, 0xfef80000n, 0x208b95d000n, 0xfef9ffffn - 0xfef80000n + 1n);
};

/** Regression: a range that needs 2M, then 1G, then 2M leaves again. */
const test_mixed: Case = (priv, ctx) => {
  const top = ptTopRange(priv.common);
  const start = 0x3fe400n << 12n;
  const end = 0x4c0600n << 12n;
  if (lastOf(top) <= start) ctx.skip('range is too small');
  const GENMASK_30_21 = ((1n << 31n) - 1n) & ~((1n << 21n) - 1n);
  if ((priv.safePgsizeBitmap & GENMASK_30_21) !== ((1n << 30n) | (1n << 21n))) ctx.skip('incompatible psize');
  doMap(priv, start, start, end - start);
  // 14 2M, 3 1G, 3 2M
  expect(countValids(priv)).toBe(20);
  checkIova(priv, start, start, end - start);
};

export const IOMMU_PT_CASES: ReadonlyArray<{ name: string; run: Case }> = [
  { name: 'test_increase_level', run: test_increase_level },
  { name: 'test_map_simple', run: test_map_simple },
  { name: 'test_map_table_to_oa', run: test_map_table_to_oa },
  { name: 'test_unmap_split', run: test_unmap_split },
  { name: 'test_random_map', run: test_random_map },
  { name: 'test_pgsize_boundary', run: test_pgsize_boundary },
  { name: 'test_mixed', run: test_mixed },
];

/**
 * Describe `<fmt>_iommu_test`: each case of the kernel's iommu suite for each
 * of the format's kunit configs, with a fresh table per test and the leak
 * check (no table page left after deinit) after it.
 */
export function describeIommuPtSuite(kf: KunitFormat, opts: SuiteOptions = {}): void {
  const seed = opts.seed ?? 0x5eed;
  describe(`${kf.format.name}_iommu_test`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        for (const c of IOMMU_PT_CASES) {
          it(c.name, (ctx) => {
            const priv = new KunitPriv(kf, n);
            let ok = false;
            try {
              c.run(priv, ctx, new Rng(seed));
              ok = true;
            } finally {
              priv.table.deinit();
            }
            // Leak check: every table page came back.
            if (ok) expect(priv.mem.pagesInUse, 'table pages leaked').toBe(0);
          });
        }
      });
    });
  });
}
