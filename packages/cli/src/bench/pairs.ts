/**
 * The kernel comparison timed as ../shared/kernel-bench timed the kernel's
 * C: map_range then unmap_range of one range, its tables present
 * beforehand, warm-up pairs first, then an untimed loop of pairs with one
 * clock read either side, divided by their number. No timer cost inside, so
 * the figure is comparable with the kernel's "pair" column as a batched
 * per-call average is not.
 */
import { performance } from 'node:perf_hooks';
import { IommuIotlbGather, putPagesList, type PtIommu } from '@genpt/iommu-ops';
import { KERNEL_PAIR_NS } from './kernel-reference.js';
import { type BenchTable, benchIova, makeBenchTable, smallestPageLg2 } from './tables.js';

export interface PairShape {
  /** Page size of the shape, lg2; a format whose smallest page is larger uses that. */
  pgsizeLg2: number;
  pgcount: number;
}

export const PAIR_SHAPES: readonly PairShape[] = [
  { pgsizeLg2: 12, pgcount: 1 },
  { pgsizeLg2: 12, pgcount: 256 },
  { pgsizeLg2: 21, pgcount: 256 },
];

export interface PairRow {
  kind: 'pair';
  format: string;
  config: string;
  pgsizeLg2: number;
  pgcount: number;
  /** ns per map+unmap pair. */
  pairNs: number;
  /** The kernel's C for the same config and shape, where it was timed. */
  kernelPairNs: number | null;
}

export interface PairOptions {
  /** How long the timed loop should take, ms (the pair count follows from a calibration). */
  targetMs: number;
  /**
   * Warm-up before it, ms: far more than the kernel's 2,000 pairs, which
   * would leave a JIT timing its first tiers (measured: amdv1 4K x1 at
   * ~320 ns after 2,000 pairs, ~150 ns once optimised).
   */
  warmupMs: number;
}

const RW = 3;
/** The pairs' OA: 8 GiB, or the OA's upper half when it is narrower (the short descriptor's 32 bits). */
function benchOa(t: PtIommu): number {
  return Math.min(2 ** 33, 2 ** (t.common.maxOaszLg2 - 1));
}

/** One map+unmap pair, checked once before timing: both ops cover exactly the range. */
function checkedPair(t: PtIommu, iova: number, len: number, g: IommuIotlbGather): void {
  const oa = benchOa(t);
  t.mapRange(iova, oa, len, RW);
  if (t.iovaToPhys(iova + len - 1) !== oa + len - 1) throw new Error(`bench: ${t.fmt.name} map of ${len} bytes did not translate`);
  const got = t.unmapRange(iova, len, g);
  putPagesList(t.common.mem, g.freelist);
  if (got !== len) throw new Error(`bench: ${t.fmt.name} unmap of ${len} bytes unmapped ${String(got)}`);
}

function loop(t: PtIommu, iova: number, len: number, g: IommuIotlbGather, n: number): number {
  const oa = benchOa(t);
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    t.mapRange(iova, oa, len, RW);
    t.unmapRange(iova, len, g);
    // A range covering whole tables frees them (DART's 512 MiB of 4 KiB
    // pages): back to the memory, as the driver's iotlb_sync would.
    if (g.freelist.length !== 0) putPagesList(t.common.mem, g.freelist);
  }
  return performance.now() - t0;
}

/** ns per pair for `bt` at `shape`. */
export function measurePair(bt: BenchTable, shape: PairShape, opts: PairOptions): PairRow {
  const t = makeBenchTable(bt);
  const pgsizeLg2 = Math.max(shape.pgsizeLg2, smallestPageLg2(t));
  const len = 2 ** pgsizeLg2 * shape.pgcount;
  const iova = benchIova(t, len);
  const g = new IommuIotlbGather();
  checkedPair(t, iova, len, g);
  // Warm up, then calibrate the count: about targetMs of pairs in the timed loop.
  for (let n = 16, spent = 0; spent < opts.warmupMs; n = Math.min(n * 2, 8192)) spent += loop(t, iova, len, g, n);
  const perPairMs = loop(t, iova, len, g, 64) / 64;
  const pairs = Math.max(64, Math.min(20000, Math.round(opts.targetMs / Math.max(perPairMs, 1e-6))));
  const pairNs = (loop(t, iova, len, g, pairs) * 1e6) / pairs;
  t.deinit();
  const kernel = KERNEL_PAIR_NS[`${bt.format} ${bt.config} ${pgsizeLg2}x${shape.pgcount}`];
  return {
    kind: 'pair',
    format: bt.format,
    config: bt.config,
    pgsizeLg2,
    pgcount: shape.pgcount,
    pairNs,
    kernelPairNs: kernel ?? null,
  };
}
