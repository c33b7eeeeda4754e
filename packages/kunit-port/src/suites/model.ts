/**
 * Differential test of the IOMMU algorithms against a deliberately simple
 * model — pt-core's interval map of VA -> OA — with fast-check: random sequences of
 * map, unmap, iova_to_phys and dirty operations in a window of the table,
 * checking every result and every translation the model knows about, and
 * that deinit gives every table page back.
 */
import fc from 'fast-check';
import { IOMMU_WRITE, IntervalMap, isPtError, type PtError } from '@genpt/pt-core';
import { IommuDirtyBitmap, IommuIotlbGather, IovaRangeRecorder, iommuUnmap, type PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { firstVa, oaInto, vaInto } from './window.js';

type Op =
  | { op: 'map'; page: number; pages: number; align: number; oaShift: number; prot: number }
  | { op: 'unmap'; page: number; pages: number }
  | { op: 'probe'; page: number; offset: number }
  | { op: 'setDirty'; page: number }
  | { op: 'readDirty'; noClear: boolean };

/** Pages in the window (smallest pages). */
const WINDOW_PAGES = 1 << 20;

function opArb(): fc.Arbitrary<Op> {
  const page = fc.integer({ min: 0, max: WINDOW_PAGES - 1 });
  return fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        op: fc.constant('map' as const),
        page,
        // mostly small runs; sometimes runs big enough for 2M and 1G leaves
        pages: fc.oneof(fc.integer({ min: 1, max: 64 }), fc.integer({ min: 1, max: 4096 }), fc.constantFrom(512, 1024, 262144)),
        align: fc.constantFrom(1, 1, 16, 512, 512, 262144),
        oaShift: fc.constantFrom(0, 0, 0, 1, 512),
        prot: fc.constantFrom(1, 2, 3, 3, 3 | 4, 3 | 8, 1 | 16, 3 | 32),
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('unmap' as const), page, pages: fc.integer({ min: 1, max: 4096 }) }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('probe' as const), page, offset: fc.integer({ min: 0, max: 4095 }) }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('setDirty' as const), page }) },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('readDirty' as const), noClear: fc.boolean() }) },
  );
}

export interface ModelOptions {
  numRuns?: number;
  seed?: number;
}

class ModelRun {
  readonly model = new IntervalMap();
  readonly dirty = new Set<bigint>();
  readonly pg: bigint;
  readonly base: bigint;
  readonly end: bigint;
  /** Pages in the window: WINDOW_PAGES, or what a narrow table holds past base. */
  private readonly pages: number;
  /** This table tracks dirty state. */
  private readonly dirtyOn: boolean;

  constructor(
    readonly t: PtIommu,
    priv: KunitPriv,
    /** KunitFormat.dirtyFromMap */
    private readonly dirtyFromMap = false,
  ) {
    this.pg = priv.smallestPgsz;
    // A format with dirty bits may still leave them off in a table (ARMv8 without DBM: nothing is ever dirty).
    this.dirtyOn = t.hasDirtyTracking && (!dirtyFromMap || t.common.fmt.dirtySupported(t.common));
    // A window at 4 GiB into the table (past page 0; growth happens for DYNAMIC_TOP)
    this.base = vaInto(t, 32);
    const room = Number(((1n << BigInt(t.common.maxVaszLg2)) - (this.base - firstVa(t))) / this.pg);
    this.pages = Math.min(WINDOW_PAGES, 2 ** Math.floor(Math.log2(room)));
    this.end = this.base + BigInt(this.pages) * this.pg;
  }

  va(page: number): bigint {
    return this.base + BigInt(page % this.pages) * this.pg;
  }

  check(va: bigint, what: string): void {
    const got = BigInt(this.t.iovaToPhys(va));
    const want = this.model.find(va)?.oa ?? 0n;
    if (got !== want) expect(got, `${what}: iova_to_phys(0x${va.toString(16)})`).toBe(want);
  }

  /** Compare a spread of translations with the model. */
  verify(what: string, extra: bigint[] = []): void {
    for (const m of this.model) {
      this.check(m.start, what);
      this.check(m.last, what);
      this.check(m.start + (((m.last + 1n - m.start) / this.pg) >> 1n) * this.pg, what);
    }
    for (const v of extra) if (v >= this.base && v < this.end) this.check(v, what);
  }

  run(op: Op): void {
    const t = this.t;
    switch (op.op) {
      case 'map': {
        const a = BigInt(op.align);
        const page = (BigInt(op.page) / a) * a;
        const start = this.base + page * this.pg;
        let len = BigInt(op.pages) * this.pg;
        if (start + len > this.end) len = this.end - start;
        if (len <= 0n) return;
        // OA equally aligned with the VA, or shifted to defeat large pages
        const ob = oaInto(this.t, 40);
        const oa = (start & (ob - 1n)) + ob + BigInt(op.oaShift) * this.pg;
        const overlap = this.model.overlaps(start, start + len - 1n);
        let mapped: bigint;
        try {
          mapped = BigInt(t.mapRange(start, oa, len, op.prot));
          expect(overlap, `map [0x${start.toString(16)}, +0x${len.toString(16)}) over a mapping succeeded`).toBe(false);
        } catch (e) {
          if (!isPtError(e)) throw e;
          expect(e.code).toBe('EADDRINUSE');
          expect(overlap).toBe(true);
          mapped = BigInt((e as PtError).mapped ?? 0);
          expect(mapped < len && mapped % this.pg === 0n).toBe(true);
          // What it mapped was free
          expect(mapped > 0n && this.model.overlaps(start, start + mapped - 1n)).toBe(false);
        }
        if (mapped > 0n) this.model.map(start, start + mapped - 1n, oa, op.prot);
        // Writable leaves that start dirty (dirtyFromMap): every page mapped is.
        if (this.dirtyFromMap && this.dirtyOn && op.prot & IOMMU_WRITE) {
          for (let va = start; va < start + mapped; va += this.pg) this.dirty.add(va);
        }
        this.verify('after map', [start, start + len - this.pg, start + mapped]);
        return;
      }
      case 'unmap': {
        const start = this.va(op.page);
        const len = BigInt(op.pages) * this.pg;
        const g = new IommuIotlbGather();
        const n = BigInt(t.unmapRange(start, len, g));
        if (n > 0n) {
          // Whole leaves from the start: all of it was mapped.
          expect(this.model.covers(start, start + n - 1n), `unmap returned 0x${n.toString(16)}`).toBe(true);
          this.model.unmap(start, start + n - 1n);
          for (const d of [...this.dirty]) if (d >= start && d < start + n) this.dirty.delete(d);
          expect(BigInt(g.start)).toBe(start);
          expect(BigInt(g.end)).toBe(start + n - 1n);
        }
        for (const pa of g.freelist) t.common.mem.free(pa);
        this.verify('after unmap', [start, start + len - this.pg]);
        return;
      }
      case 'probe': {
        const va = this.va(op.page) + BigInt(op.offset % Number(this.pg));
        this.check(va, 'probe');
        return;
      }
      case 'setDirty': {
        const va = this.va(op.page);
        let err: string | 0 = 0;
        try {
          t.setDirty(va);
        } catch (e) {
          if (!isPtError(e)) throw e;
          err = e.code;
        }
        if (!t.hasDirtyTracking) expect(err).toBe('EOPNOTSUPP');
        else if (this.model.find(va) === undefined) expect(err).toBe('ENOENT');
        else if (this.dirtyFromMap && (!this.dirtyOn || !(this.model.find(va)!.range.prot & IOMMU_WRITE))) expect(err).toBe('EAGAIN');
        else {
          expect(err).toBe(0);
          this.dirty.add(va);
        }
        return;
      }
      case 'readDirty': {
        const rec = new IovaRangeRecorder();
        const bitmap = new IommuDirtyBitmap(rec, new IommuIotlbGather());
        let err: string | 0 = 0;
        try {
          t.readAndClearDirty(this.base, this.end - this.base, op.noClear ? 1 : 0, bitmap);
        } catch (e) {
          if (!isPtError(e)) throw e;
          err = e.code;
        }
        if (!t.hasDirtyTracking) {
          expect(err).toBe('EOPNOTSUPP');
          return;
        }
        expect(err).toBe(0);
        const ranges = rec.ranges.map(([a, l]) => [BigInt(a), BigInt(a) + BigInt(l)] as const);
        // Every dirtied address is reported; every report is a mapped leaf holding one.
        // (Sorted and searched: with dirtyFromMap every written page is dirty.)
        const dirty = [...this.dirty].sort(cmpBig);
        const byStart = [...ranges].sort((a, b) => cmpBig(a[0], b[0]));
        const starts = byStart.map(([s]) => s);
        for (const d of dirty) {
          // reports do not overlap: only the last one starting at or below d can cover it
          const i = firstAbove(starts, d);
          expect(i > 0 && byStart[i - 1]![1] > d, `dirty 0x${d.toString(16)}`).toBe(true);
        }
        for (const [s, e] of ranges) {
          expect(e <= s || this.model.covers(s, e - 1n)).toBe(true);
          const k = firstAbove(dirty, s - 1n);
          expect(k < dirty.length && dirty[k]! < e).toBe(true);
        }
        if (!op.noClear) this.dirty.clear();
        return;
      }
    }
  }

  /** Unmap everything the model holds (each interval is whole leaves), then deinit. */
  finish(): void {
    for (const m of this.model) {
      const len = m.last - m.start + 1n;
      expect(BigInt(iommuUnmap(this.t.domain, m.start, len))).toBe(len);
      this.model.remove(m);
    }
    this.verify('after unmapping all');
    this.t.deinit();
    expect(this.t.common.mem.pagesInUse, 'table pages left after deinit').toBe(0);
  }
}

/**
 * For each kunit config: random operation sequences against the model. Dirty
 * reads use whole-entry lengths (dirtyWholeContig) so the model can be exact;
 * the kernel's one-short default is pinned by the golden traces.
 */
export function describeIommuPtModel(kf: KunitFormat, opts: ModelOptions = {}): void {
  describe(`${kf.format.name} against an interval model`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      it(`${cfgName(kf, n)}: random map/unmap/iova_to_phys/dirty sequences`, () => {
        fc.assert(
          fc.property(fc.array(opArb(), { minLength: 1, maxLength: 40 }), (ops) => {
            const priv = new KunitPriv(kf, n, { dirtyWholeContig: true });
            const run = new ModelRun(priv.table, priv, kf.dirtyFromMap ?? false);
            for (const op of ops) run.run(op);
            run.finish();
          }),
          { numRuns: opts.numRuns ?? 60, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
        );
      });
    });
  });
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The index of the first element of sorted `xs` above `x`. */
function firstAbove(xs: readonly bigint[], x: bigint): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (xs[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
