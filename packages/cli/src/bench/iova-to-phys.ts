/**
 * iova_to_phys timed as ../shared/kernel-bench timed it: 1 GiB mapped in one
 * map_range (paddr = iova + the leaf size, so no larger leaf fits), then
 * 100,000 lookups at precomputed pseudo-random page + offset addresses in
 * it: a warm-up pass, a checking pass, then timed passes with one clock
 * read around each, the median pass reported.
 */
import { performance } from 'node:perf_hooks';
import { IommuIotlbGather, putPagesList, type PtIommu } from '@genpt/iommu-ops';
import { KERNEL_IOVA_TO_PHYS_NS } from './kernel-reference.js';
import { type BenchTable, benchIova, hasPageSize, makeBenchTable, smallestPageLg2 } from './tables.js';

export interface IovaToPhysRow {
  kind: 'iovaToPhys';
  format: string;
  config: string;
  /** The leaves looked up: the smallest page, or 2 MiB. */
  leafLg2: number;
  /** ns per lookup. */
  ns: number;
  kernelNs: number | null;
}

const GIB = 2 ** 30;
const LOOKUPS = 100_000;

/** xorshift32: the same addresses every run. */
function addresses(iova: number, leafLg2: number, n: number): number[] {
  let x = 0x9e3779b9 | 0;
  const next = (): number => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  const pages = GIB / 2 ** leafLg2;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(iova + (next() % pages) * 2 ** leafLg2 + (next() % 2 ** leafLg2));
  return out;
}

function pass(t: PtIommu, vas: readonly number[]): number {
  let sink = 0;
  const t0 = performance.now();
  for (let i = 0; i < vas.length; i++) sink += t.iovaToPhys(vas[i]!) as number;
  const ms = performance.now() - t0;
  if (sink === -1) throw new Error('unreachable');
  return ms;
}

/** The leaf sizes a table's lookups are timed at: its smallest page, and 2 MiB if it has that size. */
export function iovaToPhysLeaves(t: PtIommu): number[] {
  const small = smallestPageLg2(t);
  return small < 21 && hasPageSize(t, 21) ? [small, 21] : [small];
}

/** ns per lookup in 1 GiB of `leafLg2` leaves of `bt`; `passes` timed passes. */
export function measureIovaToPhys(bt: BenchTable, leafLg2: number, passes: number): IovaToPhysRow {
  const t = makeBenchTable(bt);
  const iova = benchIova(t, GIB);
  const delta = 2 ** leafLg2;
  t.mapRange(iova, iova + delta, GIB, 3);
  const vas = addresses(iova, leafLg2, LOOKUPS);
  pass(t, vas);
  for (const va of vas) {
    if (t.iovaToPhys(va) !== va + delta) throw new Error(`bench: ${bt.format} ${bt.config} iova_to_phys(0x${va.toString(16)}) is wrong`);
  }
  const times: number[] = [];
  for (let i = 0; i < passes; i++) times.push(pass(t, vas));
  times.sort((a, b) => a - b);
  const g = new IommuIotlbGather();
  t.unmapRange(iova, GIB, g);
  putPagesList(t.common.mem, g.freelist);
  t.deinit();
  const kernel = KERNEL_IOVA_TO_PHYS_NS[`${bt.format} ${bt.config} ${leafLg2}`];
  return {
    kind: 'iovaToPhys',
    format: bt.format,
    config: bt.config,
    leafLg2,
    ns: (times[Math.floor(times.length / 2)]! * 1e6) / LOOKUPS,
    kernelNs: kernel ?? null,
  };
}
