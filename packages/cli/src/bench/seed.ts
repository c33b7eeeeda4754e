/**
 * The seed's benchmark: map and unmap at 4 KiB x1, 4 KiB x256 (one call,
 * pgcount 256) and 2 MiB x256, per format, iommupt (new) against an
 * io-pgtable-style baseline (old) doing one walk from the top per page.
 *
 * As in the seed, a row is pgcount pages of pgsize: both sides get a domain
 * whose page sizes are just that one (the kernel lets a driver narrow the
 * bitmap), so both build the very same table — checked before timing. A
 * second measurement runs the new side with the format's full bitmap (AMDv1
 * then makes one contiguous entry of the 256 pages), which is what Linux 7.0's
 * numbers in kernel-reference.ts measure.
 *
 * Timing is our own harness: per sample, map S ranges of the row's shape
 * back to back, then unmap them (each range is mapped and unmapped over and
 * over, with its tables already present), timed with performance.now()
 * (nanosecond clock) around each batch; warm-up first; per call average over
 * all samples and minimum over sample means; the whole repeated `runs` times
 * and the median of the runs reported.
 */
import { performance } from 'node:perf_hooks';
import { bit, PT_FEAT_DYNAMIC_TOP, PT_FEAT_FLUSH_RANGE, TableMemory, type AnyPtFormat } from '@genpt/pt-core';
import { dumpTable, IommuIotlbGather, OaBatch, PtIommu, PtSpinLock } from '@genpt/iommu-ops';
import { amdv1, PT_FEAT_AMDV1_ENCRYPT_TABLES, PT_FEAT_AMDV1_FORCE_COHERENCE } from '@genpt/fmt-amdv1';
import { PT_FEAT_X86_64_AMD_ENCRYPT_TABLES, x86_64 } from '@genpt/fmt-x86-64';
import { OldAmdv1Pgtable } from './old-amdv1.js';
import { OldX86_64Pgtable } from './old-x86-64.js';

export type FormatKey = 'amdv1' | 'x86_64';

export interface BenchFormat {
  key: FormatKey;
  /** The seed's label. */
  label: string;
  make(): PtIommu;
  old(t: PtIommu): {
    mapPages(iova: number, pa: number, pgsize: number, n: number, prot: number): number;
    unmapPages(iova: number, pgsize: number, n: number, gather: IommuIotlbGather): number;
  };
}

const lock = new PtSpinLock();

/**
 * One table memory for every table the benchmark makes: each arena is a big
 * external allocation, and V8 answers many of them with full collections that
 * would land inside timed samples.
 */
export const benchMemory = new TableMemory({ maxBytes: 2 ** 30 });

/** The AMD driver's v1 table (dynamic top from level 2, 64-bit VA) and v2 table (4-level, 47-bit). */
export const BENCH_FORMATS: readonly BenchFormat[] = [
  {
    key: 'amdv1',
    label: 'AMDV1',
    make: () =>
      PtIommu.init(
        amdv1 as AnyPtFormat,
        {
          features:
            bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) | bit(PT_FEAT_AMDV1_FORCE_COHERENCE),
          hwMaxVaszLg2: 64,
          hwMaxOaszLg2: 52,
          startingLevel: 2,
        },
        { driverOps: { changeTop: () => {}, getTopLock: () => lock }, mem: benchMemory },
      ),
    old: (t) => new OldAmdv1Pgtable(t),
  },
  {
    key: 'x86_64',
    label: 'AMDv2',
    make: () =>
      PtIommu.init(
        x86_64 as AnyPtFormat,
        {
          features: bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_X86_64_AMD_ENCRYPT_TABLES),
          hwMaxVaszLg2: 47,
          hwMaxOaszLg2: 52,
          topLevel: 3,
        },
        { mem: benchMemory },
      ),
    old: (t) => new OldX86_64Pgtable(t),
  },
];

export interface Shape {
  pgsizeLg2: number;
  pgcount: number;
}

export const SHAPES: readonly Shape[] = [
  { pgsizeLg2: 12, pgcount: 1 },
  { pgsizeLg2: 12, pgcount: 256 },
  { pgsizeLg2: 21, pgcount: 256 },
];

export interface Timing {
  mapAvg: number;
  mapMin: number;
  unmapAvg: number;
  unmapMin: number;
}

export interface TimingOptions {
  /** Ranges per sample. */
  batch: number;
  /** Samples to time. */
  samples: number;
  /** Samples to run first, untimed. */
  warmup: number;
}

const RW = 3;
const BASE_IOVA = 2 ** 32;
const BASE_OA = 2 ** 36;

/** Time batches of map then unmap; ns per call. */
export function timeBatches(map: (i: number) => void, unmap: (i: number) => void, opts: TimingOptions): Timing {
  const { batch, samples, warmup } = opts;
  let mapSum = 0;
  let unmapSum = 0;
  let mapMin = Infinity;
  let unmapMin = Infinity;
  for (let s = -warmup; s < samples; s++) {
    const t0 = performance.now();
    for (let i = 0; i < batch; i++) map(i);
    const t1 = performance.now();
    for (let i = 0; i < batch; i++) unmap(i);
    const t2 = performance.now();
    if (s < 0) continue;
    const m = ((t1 - t0) * 1e6) / batch;
    const u = ((t2 - t1) * 1e6) / batch;
    mapSum += m;
    unmapSum += u;
    if (m < mapMin) mapMin = m;
    if (u < unmapMin) unmapMin = u;
  }
  return { mapAvg: mapSum / samples, mapMin, unmapAvg: unmapSum / samples, unmapMin };
}

function rangeOf(shape: Shape, i: number): { iova: number; pa: number; len: number } {
  const len = 2 ** shape.pgsizeLg2 * shape.pgcount;
  return { iova: BASE_IOVA + i * len, pa: BASE_OA + i * len, len };
}

/** Canonical dump as text, for comparing two tables. */
export function dumpText(t: PtIommu): string {
  return JSON.stringify(
    dumpTable(t).tables.map((tb) => [tb.level, tb.path, tb.entries.map((e) => [e.index, e.canonical.toString(16), e.kind])]),
  );
}

/** New and old tables of one row, both mapped once and unmapped (tables present). */
export function prepare(f: BenchFormat, shape: Shape, batch: number, fullBitmap = false) {
  const tNew = f.make();
  const tOld = f.make();
  if (!fullBitmap) {
    tNew.domain.pgsizeBitmap = 1n << BigInt(shape.pgsizeLg2);
    tOld.domain.pgsizeBitmap = 1n << BigInt(shape.pgsizeLg2);
  }
  const old = f.old(tOld);
  const g = new IommuIotlbGather();
  const pgsize = 2 ** shape.pgsizeLg2;
  for (let i = 0; i < batch; i++) {
    const r = rangeOf(shape, i);
    tNew.mapPages(r.iova, r.pa, pgsize, shape.pgcount, RW);
    old.mapPages(r.iova, r.pa, pgsize, shape.pgcount, RW);
  }
  return { tNew, tOld, old, g, pgsize };
}

/** Both sides built identical tables for this row (mapped, then unmapped). */
export function checkIdentical(f: BenchFormat, shape: Shape, batch: number): { mapped: boolean; unmapped: boolean } {
  const { tNew, tOld, old, g, pgsize } = prepare(f, shape, batch);
  const mapped = dumpText(tNew) === dumpText(tOld);
  for (let i = 0; i < batch; i++) {
    const r = rangeOf(shape, i);
    tNew.unmapPages(r.iova, pgsize, shape.pgcount, g);
    old.unmapPages(r.iova, pgsize, shape.pgcount, g);
  }
  const unmapped = dumpText(tNew) === dumpText(tOld);
  return { mapped, unmapped };
}

export interface SeedRow {
  format: FormatKey;
  label: string;
  pgsizeLg2: number;
  pgcount: number;
  newT: Timing;
  oldT: Timing;
  /** The new side with the format's full page-size bitmap (Linux 7.0's map_range). */
  rangeT: Timing;
  /** rangeT's table, unmapped into an OA batch (unmapRange's `oas` option; map timed the same way). */
  oasT: Timing;
}

/** Runs an OA batch holds in the bench (one leaf per run at worst would stop every 64 leaves). */
export const BENCH_OA_BATCH = 64;

/** Measure one row: new and old with the row's page size, and new with the full bitmap. */
export function measureRow(f: BenchFormat, shape: Shape, opts: TimingOptions): SeedRow {
  const { tNew, tOld, old, g, pgsize } = prepare(f, shape, opts.batch);
  const same = dumpText(tNew) === dumpText(tOld);
  if (!same) throw new Error(`${f.key} ${shape.pgcount}x2^${shape.pgsizeLg2}: old and new built different tables`);
  const ranges = Array.from({ length: opts.batch }, (_, i) => rangeOf(shape, i));
  const { pgcount, pgsizeLg2 } = shape;
  for (const r of ranges) {
    tNew.unmapPages(r.iova, pgsize, pgcount, g);
    old.unmapPages(r.iova, pgsize, pgcount, g);
  }
  const newT = timeBatches(
    (i) => tNew.mapPages(ranges[i]!.iova, ranges[i]!.pa, pgsize, pgcount, RW),
    (i) => tNew.unmapPages(ranges[i]!.iova, pgsize, pgcount, g),
    opts,
  );
  const oldT = timeBatches(
    (i) => old.mapPages(ranges[i]!.iova, ranges[i]!.pa, pgsize, pgcount, RW),
    (i) => old.unmapPages(ranges[i]!.iova, pgsize, pgcount, g),
    opts,
  );
  tNew.deinit();
  tOld.deinit();
  // Linux 7.0's map_range/unmap_range with every page size the format has
  const full = prepare(f, shape, opts.batch, true);
  for (const r of ranges) full.tNew.unmapRange(r.iova, r.len, full.g);
  const rangeT = timeBatches(
    (i) => full.tNew.mapRange(ranges[i]!.iova, ranges[i]!.pa, ranges[i]!.len, RW),
    (i) => full.tNew.unmapRange(ranges[i]!.iova, ranges[i]!.len, full.g),
    opts,
  );
  // The same, unmapping into an OA batch: the bytes and the runs are checked once.
  const batch = new OaBatch(BENCH_OA_BATCH);
  const r0 = ranges[0]!;
  full.tNew.mapRange(r0.iova, r0.pa, r0.len, RW);
  const got = full.tNew.unmapRange(r0.iova, r0.len, full.g, { oas: batch });
  if (Number(got) !== r0.len || batch.count !== 1 || Number(batch.oa(0)) !== r0.pa || Number(batch.len(0)) !== r0.len) {
    throw new Error(`${f.key} ${pgcount}x2^${pgsizeLg2}: the OA batch did not list the range unmapped`);
  }
  // One options object, made once, as a caller draining in a loop would.
  const oasOpts = { oas: batch };
  const oasT = timeBatches(
    (i) => full.tNew.mapRange(ranges[i]!.iova, ranges[i]!.pa, ranges[i]!.len, RW),
    (i) => {
      batch.clear();
      full.tNew.unmapRange(ranges[i]!.iova, ranges[i]!.len, full.g, oasOpts);
    },
    opts,
  );
  full.tNew.deinit();
  full.tOld.deinit();
  return { format: f.key, label: f.label, pgsizeLg2, pgcount, newT, oldT, rangeT, oasT };
}

/** The middle value (the upper one of an even count). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median of several measurements of the same row, field by field. */
export function medianRow(rows: SeedRow[]): SeedRow {
  const med = (pick: (r: SeedRow) => Timing): Timing => ({
    mapAvg: median(rows.map((r) => pick(r).mapAvg)),
    mapMin: median(rows.map((r) => pick(r).mapMin)),
    unmapAvg: median(rows.map((r) => pick(r).unmapAvg)),
    unmapMin: median(rows.map((r) => pick(r).unmapMin)),
  });
  const r0 = rows[0]!;
  return { ...r0, newT: med((r) => r.newT), oldT: med((r) => r.oldT), rangeT: med((r) => r.rangeT), oasT: med((r) => r.oasT) };
}
