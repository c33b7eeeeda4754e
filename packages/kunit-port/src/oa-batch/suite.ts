/**
 * describeOaBatchSuite: unmap into an OA batch, behind the emulated IOTLB.
 * fast-check sequences of maps (mixed page sizes, scattered OAs) and unmaps
 * drained through small batches: the runs listed, joined across every
 * partial stop, are exactly the OAs the reference model says were unmapped,
 * in order and merged; each batch stops only when full, at a leaf boundary;
 * the bytes unmapped equal what a twin table's plain unmap removes; with the
 * reclaim option the table pages stay minimal. Plus the argument checks and
 * a mutation test that shows the comparison fails on a batch that records
 * leaves at the wrong size.
 */
import { IntervalMap, PtError } from '@genpt/pt-core';
import { IommuIotlbGather, OaBatch, iommuIotlbSync, setPtTestMutation, type PtIommu } from '@genpt/iommu-ops';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IotlbHarness } from '../iotlb/harness.js';
import { GENERIC_MODEL } from '../iotlb/models.js';
import { KunitPriv, cfgName, type KunitFormat } from '../kunit/fixture.js';
import { minimalTablePages } from '../reclaim/suite.js';
import { tableLeaves } from '../resize/leaves.js';
import {
  type WindowMap,
  expectModelTranslations,
  windowBase,
  windowMapFields,
  windowMapVa,
  windowSpan,
  windowVa,
  WINDOW_PAGES,
  oaBase,
  oaStride,
} from '../suites/window.js';

export interface OaBatchSuiteOptions {
  numRuns?: number;
  seed?: number;
}

interface Run {
  oa: bigint;
  len: bigint;
}

/** Join runs that continue each other (what one big enough batch would hold). */
function merged(runs: Run[]): Run[] {
  const out: Run[] = [];
  for (const r of runs) {
    const last = out[out.length - 1];
    if (last !== undefined && last.oa + last.len === r.oa) last.len += r.len;
    else out.push({ ...r });
  }
  return out;
}

/** Unmap [va, va + len) through a batch of `capacity`, draining at every stop; the bytes and every run, in order. */
function drainUnmap(h: IotlbHarness, va: bigint, len: bigint, capacity: number): { bytes: bigint; runs: Run[] } {
  const batch = new OaBatch(capacity);
  const runs: Run[] = [];
  let done = 0n;
  for (;;) {
    batch.clear();
    const n = h.unmapOas(va + done, len - done, batch);
    const got = batch.runs();
    // A batch holds maximal runs: no run continues the one before it.
    for (let i = 1; i < got.length; i++) expect(got[i - 1]!.oa + got[i - 1]!.len, 'runs in one batch are merged').not.toBe(got[i]!.oa);
    if (batch.full) {
      expect(batch.count, 'a batch stops only when full').toBe(capacity);
      expect(n, 'a full batch stops after at least one leaf').toBeGreaterThan(0n);
    }
    runs.push(...got);
    done += n;
    if (!batch.full || done >= len) return { bytes: done, runs };
  }
}

type Op =
  | (WindowMap & { oaSlot: number })
  | { op: 'chunks'; page: number; pages: number[]; oaSlot: number }
  | { op: 'unmap'; page: number; pages: number; capacity: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ ...windowMapFields([16, 32, 512, 1024]), oaSlot: fc.nat(7) }) },
  {
    // Back-to-back maps with unrelated OAs: an unmap over them needs a run each.
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('chunks' as const),
      page: fc.nat(WINDOW_PAGES / 512 - 1).map((p) => p * 512),
      pages: fc.array(fc.constantFrom(1, 3, 16, 512), { minLength: 2, maxLength: 8 }),
      oaSlot: fc.nat(7),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('unmap' as const),
      // Often where a run of chunks starts.
      page: fc.oneof(
        fc.nat(WINDOW_PAGES - 1),
        fc.nat(WINDOW_PAGES / 512 - 1).map((p) => p * 512),
      ),
      pages: fc.integer({ min: 1, max: 1500 }),
      capacity: fc.integer({ min: 1, max: 4 }),
    }),
  },
);

function runSequence(h: IotlbHarness, twin: PtIommu, ops: Op[], reclaim: boolean): void {
  const t = h.t;
  const model = new IntervalMap();
  const pg = h.priv.smallestPgsz;
  const base = windowBase(t);
  const map = (va: bigint, pages: number, slot: number): void => {
    const len = windowSpan(model, base, pg, va, pages);
    if (len === undefined) return;
    // OAs in one of 8 slots 1 GiB apart, at the VA's offset (so large pages stay possible).
    const oa = oaBase(t) + BigInt(slot % 8) * oaStride(t) + (va - base);
    expect(h.map(va, oa, len)).toBe('ok');
    twin.mapRange(va, oa, len, 3);
    model.map(va, va + len - 1n, oa);
  };
  for (const o of ops) {
    if (o.op === 'map') {
      map(windowMapVa(base, pg, o), o.pages, o.oaSlot);
    } else if (o.op === 'chunks') {
      let page = BigInt(o.page);
      o.pages.forEach((p, i) => {
        map(windowVa(base, pg, page), p, o.oaSlot + i);
        page += BigInt(p);
      });
    } else {
      const va = windowVa(base, pg, o.page);
      const len = BigInt(o.pages) * pg;
      const { bytes, runs } = drainUnmap(h, va, len, o.capacity);
      const g = new IommuIotlbGather();
      const plain = BigInt(twin.unmapRange(va, len, g));
      iommuIotlbSync(twin.domain, g);
      expect(bytes, `bytes unmapped at 0x${va.toString(16)} +0x${len.toString(16)}`).toBe(plain);
      const expected = bytes === 0n ? [] : merged(model.unmap(va, va + bytes - 1n).map((r) => ({ oa: r.oa, len: r.last - r.start + 1n })));
      expect(merged(runs), `OAs unmapped at 0x${va.toString(16)} +0x${bytes.toString(16)}`).toEqual(expected);
    }
    if (reclaim) expect(h.priv.mem.pagesInUse, `table pages after ${JSON.stringify(o)}`).toBe(minimalTablePages(t));
    expectModelTranslations(t, model, pg);
  }
}

/** A large leaf and a page, unmapped through one batch: the runs are their OAs and sizes. */
function testLargeLeaf(h: IotlbHarness): void {
  const t = h.t;
  const pg = h.priv.smallestPgsz;
  // A leaf above level 0 (2 MiB at 4 KiB; 32 MiB / 512 MiB at 16 / 64 KiB, whose
  // 2 MiB is a contiguous run of level 0 items), so a listing in level 0 pages is wrong.
  const level1 = t.common.itemLg2sz[1]!;
  let bigLg2 = h.priv.largestPgszLg2;
  for (let s = level1; s < bigLg2; s++) if ((h.priv.pgsizeBitmap >> BigInt(s)) & 1n) bigLg2 = s;
  const big = 1n << BigInt(bigLg2);
  const va = windowBase(t) + 8n * big;
  const oa = oaBase(t) + 4n * big;
  expect(h.map(va, oa, big)).toBe('ok');
  expect(h.map(va + big, oa + oaStride(t), pg)).toBe('ok');
  const batch = new OaBatch(4);
  expect(h.unmapOas(va, big + pg, batch)).toBe(big + pg);
  expect(batch.full).toBe(false);
  expect(batch.runs()).toEqual([
    { oa, len: big },
    { oa: oa + oaStride(t), len: pg },
  ]);
}

/** Six back-to-back maps with unrelated OAs through a batch of two: three stops, every OA listed once, in order. */
function testPartialStops(h: IotlbHarness): void {
  const t = h.t;
  const pg = h.priv.smallestPgsz;
  // Past the random sequences' window.
  const va = windowBase(t) + BigInt(WINDOW_PAGES) * pg;
  const expected: Run[] = [];
  for (let i = 0n; i < 6n; i++) {
    const oa = oaBase(t) + ((i * 5n) % 6n) * oaStride(t) + i * 2n * pg;
    expect(h.map(va + i * 2n * pg, oa, 2n * pg)).toBe('ok');
    expected.push({ oa, len: 2n * pg });
  }
  const batch = new OaBatch(2);
  const got: Run[] = [];
  let done = 0n;
  let stops = 0;
  for (;;) {
    batch.clear();
    done += h.unmapOas(va + done, 12n * pg - done, batch);
    got.push(...batch.runs());
    if (!batch.full) break;
    stops++;
    // A stop is at a leaf boundary: what is left is still mapped.
    expect(BigInt(t.iovaToPhys(va + done))).toBe(expected[Number(done / (2n * pg))]!.oa);
  }
  expect(stops).toBe(2);
  expect(done).toBe(12n * pg);
  expect(got).toEqual(expected);
}

export function describeOaBatchSuite(kf: KunitFormat, opts: OaBatchSuiteOptions = {}): void {
  describe(`${kf.format.name} unmap into an OA batch`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it('lists a large leaf and a page with their sizes', () => {
          const h = new IotlbHarness(kf, n, GENERIC_MODEL);
          testLargeLeaf(h);
          h.deinit();
          expect(h.priv.mem.pagesInUse).toBe(0);
        });

        it('a full batch stops the unmap at a leaf boundary; the caller drains and goes on', () => {
          const h = new IotlbHarness(kf, n, GENERIC_MODEL);
          testPartialStops(h);
          h.deinit();
          expect(h.priv.mem.pagesInUse).toBe(0);
        });

        it('the OAs listed across partial stops are exactly those unmapped, in order (against the reference model and a plain unmap)', () => {
          fc.assert(
            fc.property(fc.array(opArb, { minLength: 1, maxLength: 30 }), fc.boolean(), (ops, reclaim) => {
              const h = new IotlbHarness(kf, n, GENERIC_MODEL, undefined, { reclaim });
              const twin = new KunitPriv(kf, n);
              runSequence(h, twin.table, ops, reclaim);
              h.deinit();
              twin.table.deinit();
              expect(h.priv.mem.pagesInUse).toBe(0);
            }),
            { numRuns: opts.numRuns ?? 25, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
          );
        });

        it('bad options are EINVAL naming the argument, with the table untouched', () => {
          const priv = new KunitPriv(kf, n);
          const t = priv.table;
          const va = windowBase(t);
          t.mapRange(va, oaBase(t), priv.smallestPgsz, 3);
          const before = tableLeaves(t);
          const g = new IommuIotlbGather();
          const bad: Array<[unknown, RegExp]> = [
            [null, /opts must be an object/],
            [{ oas: [] }, /opts\.oas must be an OaBatch/],
            [{ oas: { count: 0, capacity: 4 } }, /opts\.oas must be an OaBatch/],
          ];
          for (const [o, msg] of bad) {
            const e = (() => {
              try {
                t.unmapRange(va, priv.smallestPgsz, g, o as { oas: OaBatch });
              } catch (err) {
                return err;
              }
              return undefined;
            })();
            expect(e).toBeInstanceOf(PtError);
            expect((e as PtError).code).toBe('EINVAL');
            expect((e as PtError).message).toMatch(msg);
          }
          for (const c of [0, -1, 1.5, 2 ** 25]) expect(() => new OaBatch(c)).toThrow(/capacity/);
          expect(tableLeaves(t)).toEqual(before);
          expect(g.freelist.length).toBe(0);
          // { } and { oas: undefined } are a plain unmap.
          expect(BigInt(t.unmapRange(va, priv.smallestPgsz, g, {}))).toBe(priv.smallestPgsz);
          iommuIotlbSync(t.domain, g);
          t.deinit();
          expect(priv.mem.pagesInUse).toBe(0);
        });

        it('mutation oaBatchPageSized (every leaf listed as one page) is caught', (ctx) => {
          const probe = new KunitPriv(kf, n);
          const onePageSize = probe.largestPgszLg2 === Math.log2(Number(probe.smallestPgsz));
          probe.table.deinit();
          if (onePageSize) ctx.skip('one page size only: every leaf is one page, which the mutation lists correctly');
          setPtTestMutation('oaBatchPageSized', true);
          try {
            const h = new IotlbHarness(kf, n, GENERIC_MODEL);
            expect(() => testLargeLeaf(h)).toThrow();
          } finally {
            setPtTestMutation('oaBatchPageSized', false);
          }
        });
      });
    });
  });
}
