/**
 * describeIotlbSuite: for every config of a format and every invalidation
 * model that applies to it, the kernel's kunit scenarios that change a live
 * table and random map/unmap/dirty/cut/split/collapse sequences run behind the emulated IOTLB
 * (harness.ts); every sync and every op is checked. The mutation tests then
 * re-introduce three known gather bugs (iommu-ops' ptTestMutations) and show
 * the checks catch each of them.
 */
import { PT_FEAT_DYNAMIC_TOP } from '@genpt/pt-core';
import { setPtTestMutation, type PtTestMutations } from '@genpt/iommu-ops';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cfgName, tracksDirty, type KunitFormat } from '../kunit/fixture.js';
import { windowBase, oaBase, oaInto } from '../suites/window.js';
import { IotlbHarness } from './harness.js';
import { GENERIC_STRICT_MODEL, type InvalidationModel } from './models.js';

export interface IotlbSuiteOptions {
  /** fast-check runs per config and model (default 25). */
  numRuns?: number;
  seed?: number;
}

/** The page sizes the scenarios use: the table's, up to 1 GiB (larger ones only cost time). */
function sizesOf(h: IotlbHarness): number[] {
  const out: number[] = [];
  for (let lg2 = 0; lg2 <= 30; lg2++) if ((h.priv.safePgsizeBitmap >> BigInt(lg2)) & 1n) out.push(lg2);
  return out;
}

/** A VA to work at: the table's first VA plus 2^31, so every scenario size is aligned there. */
function baseOf(h: IotlbHarness): bigint {
  return windowBase(h.t);
}

const P = (lg2: number) => 1n << BigInt(lg2);

/** kunit test_map_simple: one and two pages of every size, mapped and unmapped. */
function scenarioEachSize(h: IotlbHarness): void {
  const base = baseOf(h);
  for (const lg2 of sizesOf(h)) {
    const iova = base + 4n * P(lg2);
    const pa = P(lg2) * 8n;
    expect(h.map(iova, pa, P(lg2))).toBe('ok');
    expect(h.unmap(iova, P(lg2))).toBe(P(lg2));
    expect(h.map(iova, pa, 2n * P(lg2))).toBe('ok');
    expect(h.unmap(iova, 2n * P(lg2))).toBe(2n * P(lg2));
  }
}

/** CVE-2026-31735: unmapping the first small page of a large leaf removes all of it; the gather must say so. */
function scenarioUnmapIntoLeaf(h: IotlbHarness): void {
  const base = baseOf(h);
  const sizes = sizesOf(h);
  for (const lg2 of sizes.slice(1)) {
    const iova = base + 2n * P(lg2);
    expect(h.map(iova, P(lg2) * 4n, P(lg2))).toBe('ok');
    expect(h.unmap(iova, P(sizes[0]!))).toBe(P(lg2));
  }
}

/** Map one table's worth of smallest pages (the domain narrowed to that size), as the kernel's tests do with pgsize. */
function mapSmall(h: IotlbHarness, iova: bigint, len: bigint): void {
  const d = h.t.domain;
  const saved = d.pgsizeBitmap;
  d.pgsizeBitmap = h.priv.smallestPgsz;
  try {
    expect(h.map(iova, oaInto(h.t, 33), len)).toBe('ok');
  } finally {
    d.pgsizeBitmap = saved;
  }
}

/** The span one level-1 item covers: a whole lowest-level table. */
const leafTableSpan = (h: IotlbHarness): bigint => P(h.t.common.itemLg2sz[1]!);

/** kunit test_unmap_split and friends: an unmap that covers a whole table frees it through the gather. */
function scenarioFreeTables(h: IotlbHarness): void {
  const span = leafTableSpan(h);
  const iova = baseOf(h) + 2n * span;
  mapSmall(h, iova, 2n * span);
  const freed = h.freedTables;
  expect(h.unmap(iova, 2n * span)).toBe(2n * span);
  expect(h.freedTables - freed).toBe(2);
}

/** kunit test_map_table_to_oa: a large leaf mapped over a table the unmap left empty replaces (and frees) it. */
function scenarioTableToOa(h: IotlbHarness): void {
  const span = leafTableSpan(h);
  if (!(h.priv.pgsizeBitmap & span)) return;
  const iova = baseOf(h) + 6n * span;
  mapSmall(h, iova, h.priv.smallestPgsz);
  expect(h.unmap(iova, h.priv.smallestPgsz)).toBe(h.priv.smallestPgsz);
  expect(h.map(iova, span * 3n, span)).toBe('ok');
  expect(h.unmap(iova, span)).toBe(span);
}

/** kunit test_increase_level: a map above the top grows it (change_top), the cache keeps the old walks. */
function scenarioGrowTop(h: IotlbHarness): void {
  const c = h.t.common;
  if (!c.feature(PT_FEAT_DYNAMIC_TOP) || c.topSpanLg2 + 1 >= c.maxVaszLg2) return;
  const pg = h.priv.smallestPgsz;
  const base = baseOf(h);
  expect(h.map(base, pg, pg)).toBe('ok');
  const high = P(c.topSpanLg2 + 1);
  expect(h.map(high, 2n * pg, pg)).toBe('ok');
  expect(h.unmap(high, pg)).toBe(pg);
  expect(h.unmap(base, pg)).toBe(pg);
}

/** test_cut_simple and more: every large leaf cut in its middle and at its second page, then both halves unmapped. */
function scenarioCut(h: IotlbHarness): void {
  const base = baseOf(h);
  const sizes = sizesOf(h);
  const pg = P(sizes[0]!);
  for (const lg2 of sizes.slice(1)) {
    const iova = base + 2n * P(lg2);
    const half = P(lg2) / 2n;
    expect(h.map(iova, P(lg2) * 4n, P(lg2))).toBe('ok');
    expect(h.cut(iova + half)).toBe('ok');
    if (half > pg) {
      expect(h.cut(iova + pg)).toBe('ok');
      expect(h.unmap(iova, pg)).toBe(pg);
      expect(h.unmap(iova + pg, half - pg)).toBe(half - pg);
    } else expect(h.unmap(iova, half)).toBe(half);
    expect(h.unmap(iova + half, half)).toBe(half);
  }
}

/** A large leaf split to the smallest pages, dirtied, collapsed back; then small pages collapsed into a large leaf. */
function scenarioSplitCollapse(h: IotlbHarness): void {
  const base = baseOf(h);
  const sizes = sizesOf(h);
  const lg2 = sizes.find((s) => s > sizes[0]! && s <= 21);
  if (lg2 === undefined) return;
  const iova = base + 8n * P(lg2);
  expect(h.map(iova, P(lg2) * 4n, P(lg2))).toBe('ok');
  expect(h.split(iova, P(lg2), sizes[0]!)).toBe('ok');
  if (h.t.hasDirtyTracking) h.setDirty(iova + P(sizes[0]!));
  expect(h.collapse(iova, P(lg2))).toBe('ok');
  expect(h.unmap(iova, P(lg2))).toBe(P(lg2));
  const span = leafTableSpan(h);
  if (!(h.priv.pgsizeBitmap & span)) return;
  const at = base + 4n * span;
  mapSmall(h, at, span);
  const freed = h.freedTables;
  expect(h.collapse(at, span)).toBe('ok');
  expect(h.freedTables - freed).toBe(1);
  expect(h.unmap(at, span)).toBe(span);
}

const SCENARIOS: Array<[string, (h: IotlbHarness) => void]> = [
  ['one and two pages of every size', scenarioEachSize],
  ['an unmap into a large leaf gathers the whole leaf (CVE-2026-31735)', scenarioUnmapIntoLeaf],
  ['an unmap that empties tables frees them through the gather', scenarioFreeTables],
  ['a large leaf over an emptied table frees the table', scenarioTableToOa],
  ['the top grows under a cached table', scenarioGrowTop],
  ['cuts of every large leaf, then unmaps of both sides', scenarioCut],
  ['split to the smallest pages and collapse back; small pages collapsed into a large leaf', scenarioSplitCollapse],
];

type Op =
  | { op: 'map'; slot: number; count: number; size: number; oa: number }
  | { op: 'unmap'; slot: number; count: number; size: number }
  | { op: 'dirty'; slot: number; count: number; size: number; noClear: boolean }
  | { op: 'setDirty'; slot: number }
  | { op: 'cut'; slot: number; size: number; page: number }
  | { op: 'split'; slot: number; count: number; size: number; to: number }
  | { op: 'collapse'; slot: number; count: number; size: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('map' as const), slot: fc.nat(63), count: fc.integer({ min: 1, max: 4 }), size: fc.nat(8), oa: fc.nat(255) }),
  fc.record({ op: fc.constant('unmap' as const), slot: fc.nat(63), count: fc.integer({ min: 1, max: 8 }), size: fc.nat(8) }),
  fc.record({
    op: fc.constant('dirty' as const),
    slot: fc.nat(63),
    count: fc.integer({ min: 1, max: 8 }),
    size: fc.nat(8),
    noClear: fc.boolean(),
  }),
  fc.record({ op: fc.constant('setDirty' as const), slot: fc.nat(63) }),
  fc.record({ op: fc.constant('cut' as const), slot: fc.nat(63), size: fc.nat(8), page: fc.nat(511) }),
  fc.record({ op: fc.constant('split' as const), slot: fc.nat(63), count: fc.integer({ min: 1, max: 4 }), size: fc.nat(8), to: fc.nat(8) }),
  fc.record({ op: fc.constant('collapse' as const), slot: fc.nat(63), count: fc.integer({ min: 1, max: 8 }), size: fc.nat(8) }),
);

/** One random op in a window of 64 slots of the chosen page size at the base VA. */
function runOp(h: IotlbHarness, sizes: number[], o: Op): void {
  const base = baseOf(h);
  const lg2 = o.op === 'setDirty' ? sizes[0]! : sizes[o.size % Math.min(sizes.length, 3)]!;
  const iova = base + BigInt(o.slot) * P(lg2);
  if (o.op === 'map')
    h.map(iova, ((BigInt(o.oa) * P(lg2)) % (1n << BigInt(h.t.common.maxOaszLg2 - 2))) + oaBase(h.t), BigInt(o.count) * P(lg2));
  else if (o.op === 'unmap') h.unmap(iova, BigInt(o.count) * P(lg2));
  else if (o.op === 'cut') h.cut(iova + ((BigInt(o.page) << BigInt(sizes[0]!)) % P(lg2)));
  else if (o.op === 'split') h.split(iova, BigInt(o.count) * P(lg2), sizes[o.to % sizes.length]!);
  else if (o.op === 'collapse') h.collapse(iova, BigInt(o.count) * P(lg2));
  else if (o.op === 'dirty') {
    if (h.t.hasDirtyTracking) h.readAndClearDirty(iova, BigInt(o.count) * P(lg2), o.noClear ? 1 : 0);
  } else if (h.t.hasDirtyTracking) h.setDirty(iova);
}

function withMutation(name: keyof PtTestMutations, fn: () => void): void {
  setPtTestMutation(name, true);
  try {
    fn();
  } finally {
    setPtTestMutation(name, false);
  }
}

/** The IOTLB conformance suite for `kf` under each of `models` (GENERIC should be one of them). */
export function describeIotlbSuite(kf: KunitFormat, models: readonly InvalidationModel[], opts: IotlbSuiteOptions = {}): void {
  describe(`${kf.format.name} IOTLB invalidation`, () => {
    for (const model of models) {
      describe(`${model.name} hardware`, () => {
        kf.cfgs.forEach((_cfg, n) => {
          describe(cfgName(kf, n), () => {
            for (const [name, run] of SCENARIOS) {
              it(name, () => {
                const h = new IotlbHarness(kf, n, model);
                run(h);
                h.deinit();
                expect(h.priv.mem.pagesInUse).toBe(0);
              });
            }
            it('random map/unmap/dirty/cut/split/collapse sequences', () => {
              fc.assert(
                fc.property(fc.array(opArb, { minLength: 1, maxLength: 25 }), (ops) => {
                  const h = new IotlbHarness(kf, n, model);
                  const sizes = sizesOf(h);
                  for (const o of ops) runOp(h, sizes, o);
                  h.deinit();
                  expect(h.priv.mem.pagesInUse).toBe(0);
                }),
                { numRuns: opts.numRuns ?? 25, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
              );
            });
          });
        });
      });
    }

    describe("Linux 7.0's dirty gather starts at the requested IOVA", () => {
      kf.cfgs.forEach((_cfg, n) => {
        it(`${cfgName(kf, n)}: cleaning a large leaf from inside it gathers [iova, iova + leaf size); every model still reaches the leaf`, (ctx) => {
          const probe = new IotlbHarness(kf, n, models[0]!);
          const sizes = sizesOf(probe);
          // A large leaf of one item (a contiguous entry gathers only the items asked for): 2 MiB where it is one.
          const items = Array.from(probe.t.common.itemLg2sz).slice(1, probe.t.common.fmt.maxTopLevel + 1);
          const single = sizes.filter((s) => s > sizes[0]! && items.includes(s));
          const big = single.includes(21) ? 21 : single[0];
          probe.deinit();
          if (!tracksDirty(probe.t) || big === undefined) ctx.skip('no dirty tracking or no single-item large page size');
          const run = (model: InvalidationModel) => {
            const h = new IotlbHarness(kf, n, model);
            const at = baseOf(h) + 4n * P(big!);
            expect(h.map(at, P(big!) * 4n, P(big!))).toBe('ok');
            expect(h.setDirty(at + P(sizes[0]!))).toBe('ok');
            const spans: Array<[bigint, bigint]> = [];
            const sync = h.t.domain.ops.iotlbSync!;
            h.t.domain.ops.iotlbSync = (d, g) => {
              spans.push([BigInt(g.start), BigInt(g.end)]);
              sync.call(h.t.domain.ops, d, g);
            };
            try {
              return h.readAndClearDirty(at + P(sizes[0]!), P(sizes[0]!));
            } finally {
              expect(spans).toEqual([[at + P(sizes[0]!), at + P(sizes[0]!) + P(big!) - 1n]]);
              h.t.domain.ops.iotlbSync = sync;
              h.deinit();
            }
          };
          for (const model of models) expect(run(model)).toBe('ok');
          // The gather contract alone (the leaf wholly inside the range) leaves the cleaned leaf cached dirty.
          expect(() => run(GENERIC_STRICT_MODEL)).toThrow(/stale leaf in the IOTLB/);
        });
      });
    });

    describe('mutations: the checks catch known gather bugs', () => {
      const generic = models.find((m) => m.name === 'GENERIC');
      if (generic === undefined) return;
      kf.cfgs.forEach((_cfg, n) => {
        describe(cfgName(kf, n), () => {
          it('CVE-2026-31735 re-introduced (the requested length gathered): a stale large leaf', (ctx) => {
            const h = new IotlbHarness(kf, n, generic);
            if (sizesOf(h).length < 2) ctx.skip('no page size above the smallest');
            withMutation('gatherRequestedLength', () => {
              expect(() => scenarioUnmapIntoLeaf(h)).toThrow(/stale leaf in the IOTLB/);
            });
          });
          it('a gather that forgets its freed tables: a table left the tree ungathered', () => {
            const h = new IotlbHarness(kf, n, generic);
            withMutation('gatherDropsFreedTables', () => {
              expect(() => scenarioFreeTables(h)).toThrow(/left the tree but is not on the gather's free list/);
            });
          });
          it('an invalidation one page short: a stale last page', () => {
            const h = new IotlbHarness(kf, n, generic);
            withMutation('gatherOnePageShort', () => {
              expect(() => scenarioEachSize(h)).toThrow(/stale leaf in the IOTLB/);
            });
          });
          it('a cut that gathers nothing: the old large leaf stays cached', (ctx) => {
            const h = new IotlbHarness(kf, n, generic);
            if (sizesOf(h).length < 2) ctx.skip('no page size above the smallest');
            withMutation('resizeGathersNothing', () => {
              expect(() => scenarioCut(h)).toThrow(/stale leaf in the IOTLB/);
            });
          });
          it('the same scenarios pass with every mutation off', () => {
            const h = new IotlbHarness(kf, n, generic);
            scenarioCut(h);
            scenarioUnmapIntoLeaf(h);
            scenarioFreeTables(h);
            scenarioEachSize(h);
            expect(h.syncs).toBeGreaterThan(0);
          });
        });
      });
    });
  });
}
