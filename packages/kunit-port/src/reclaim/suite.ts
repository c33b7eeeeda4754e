/**
 * describeReclaimSuite: reclaim of empty tables, behind the emulated IOTLB
 * (every freed table on a gather, no stale walk-cache entry): the explicit
 * op after page-by-page unmaps, and fast-check sequences with the reclaim
 * option on in which the table pages in use equal, after every step, the
 * minimum the mapped leaves need (the top plus every table on a leaf's path).
 */
import { IntervalMap } from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IotlbHarness } from '../iotlb/harness.js';
import { GENERIC_MODEL } from '../iotlb/models.js';
import { cfgName, type KunitFormat } from '../kunit/fixture.js';
import { leafPathTables, tablePages } from '../resize/leaves.js';
import {
  type WindowMap,
  type WindowUnmap,
  expectModelTranslations,
  windowBase,
  windowMapFields,
  windowMapVa,
  windowSpan,
  windowUnmapFields,
  windowVa,
  WINDOW_PAGES,
  oaBase,
} from '../suites/window.js';

export interface ReclaimSuiteOptions {
  numRuns?: number;
  seed?: number;
}

const P = (lg2: number) => 1n << BigInt(lg2);

/** Pages of the top and of every table on the path of some leaf: what the mapping needs. */
export function minimalTablePages(t: PtIommu): number {
  return tablePages(t, leafPathTables(t));
}

/** Map a lower table's worth of smallest pages one by one, unmap them one by one: reclaim frees the table (and emptied parents). */
function testExplicit(h: IotlbHarness): void {
  const t = h.t;
  const pg = h.priv.smallestPgsz;
  const span = P(t.common.itemLg2sz[1]!);
  const at = windowBase(t) + 4n * span;
  const before = h.priv.mem.pagesInUse;
  for (const off of [0n, pg, span - pg]) expect(h.map(at + off, oaBase(h.t) + off, pg)).toBe('ok');
  for (const off of [0n, pg, span - pg]) expect(h.unmap(at + off, pg)).toBe(pg);
  // The kernel keeps the emptied tables.
  expect(h.priv.mem.pagesInUse).toBeGreaterThan(before);
  const freed = h.freedTables;
  const n = h.reclaim(at, span);
  expect(n).toBeGreaterThan(0);
  expect(h.freedTables - freed).toBe(n);
  expect(h.priv.mem.pagesInUse).toBe(minimalTablePages(t));
  // Nothing left to free: a second reclaim is a no-op.
  expect(h.reclaim(at, span)).toBe(0);
}

type Op = WindowMap | WindowUnmap | { op: 'reclaim'; page: number; pages: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record(windowMapFields()) },
  { weight: 3, arbitrary: fc.record(windowUnmapFields(600)) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('reclaim' as const), page: fc.nat(WINDOW_PAGES - 1), pages: fc.integer({ min: 1, max: 2048 }) }),
  },
);

function runSequence(h: IotlbHarness, ops: Op[]): void {
  const t = h.t;
  const model = new IntervalMap();
  const pg = h.priv.smallestPgsz;
  const base = windowBase(t);
  for (const o of ops) {
    if (o.op === 'map') {
      const va = windowMapVa(base, pg, o);
      const len = windowSpan(model, base, pg, va, o.pages);
      if (len === undefined) continue;
      const oa = oaBase(h.t) + (va - base);
      expect(h.map(va, oa, len)).toBe('ok');
      model.map(va, va + len - 1n, oa);
    } else if (o.op === 'unmap') {
      const va = windowVa(base, pg, o.page);
      const n = h.unmap(va, BigInt(o.pages) * pg);
      if (n > 0n) {
        expect(model.covers(va, va + n - 1n)).toBe(true);
        model.unmap(va, va + n - 1n);
      }
    } else {
      h.reclaim(windowVa(base, pg, o.page), BigInt(o.pages) * pg);
    }
    expect(h.priv.mem.pagesInUse, `table pages after ${JSON.stringify(o)}`).toBe(minimalTablePages(t));
    expectModelTranslations(t, model, pg);
  }
}

export function describeReclaimSuite(kf: KunitFormat, opts: ReclaimSuiteOptions = {}): void {
  describe(`${kf.format.name} reclaim of empty tables`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it('reclaim frees the tables page-by-page unmaps left empty, through the gather', () => {
          const h = new IotlbHarness(kf, n, GENERIC_MODEL);
          testExplicit(h);
          h.deinit();
          expect(h.priv.mem.pagesInUse).toBe(0);
        });
        it('with the reclaim option, table pages are minimal after every map/unmap/reclaim', () => {
          fc.assert(
            fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), (ops) => {
              const h = new IotlbHarness(kf, n, GENERIC_MODEL, undefined, { reclaim: true });
              runSequence(h, ops);
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
