/**
 * Scale rows: one map call of 64 GiB in 4 KiB pages (16M leaves; the
 * domain's page sizes narrowed to 4 KiB) and its unmap, and 1 TiB in 2 MiB
 * pages: ns per page, table pages used against the fewest that shape needs,
 * and the process's peak RSS.
 */
import { performance } from 'node:perf_hooks';
import { IommuIotlbGather, putPagesList, type PtIommu } from '@genpt/iommu-ops';
import type { BenchFormat, FormatKey } from './seed.js';

export interface ScaleRow {
  format: FormatKey;
  op: 'map' | 'unmap';
  pgsizeLg2: number;
  pgcount: number;
  totalMs: number;
  nsPerPage: number;
  tablePages: number;
  minTablePages: number;
  peakRssMiB: number;
}

export const SCALE_SHAPES = [
  { pgsizeLg2: 12, pgcount: 2 ** 24 },
  { pgsizeLg2: 21, pgcount: 2 ** 19 },
] as const;

const IOVA = 2 ** 32;
const OA = 2 ** 40;

/** The fewest tables a range needs: at each level from the leaves' up, the tables it spans, plus the top. */
export function minTablePages(t: PtIommu, iova: number, len: number, leafLg2: number): number {
  const c = t.common;
  const last = iova + len - 1;
  let pages = 1;
  for (let level = c.fmt.pgszLg2ToLevel(c, leafLg2); level < c.topLevel; level++) {
    const span = 2 ** (c.itemLg2sz[level]! + c.numItemsLg2[level]!);
    pages += Math.floor(last / span) - Math.floor(iova / span) + 1;
  }
  return pages;
}

function peakRssMiB(): number {
  return process.resourceUsage().maxRSS / 1024;
}

export function measureScale(f: BenchFormat, shape: { pgsizeLg2: number; pgcount: number }): ScaleRow[] {
  const t = f.make();
  t.domain.pgsizeBitmap = 1n << BigInt(shape.pgsizeLg2);
  const len = 2 ** shape.pgsizeLg2 * shape.pgcount;
  // Warm-up: the same map and unmap once, untimed. The seed rows never
  // allocate tables, so this is where the allocation paths get compiled,
  // and the arena's pages get faulted in (the kernel's page allocator hands
  // out memory that is already mapped).
  const warm = new IommuIotlbGather();
  t.mapRange(IOVA, OA, len, 3);
  t.unmapRange(IOVA, len, warm);
  putPagesList(t.common.mem, warm.freelist);
  const t0 = performance.now();
  t.mapRange(IOVA, OA, len, 3);
  const t1 = performance.now();
  const tablePages = t.common.mem.pagesInUse;
  const minPages = minTablePages(t, IOVA, len, shape.pgsizeLg2);
  const g = new IommuIotlbGather();
  const t2 = performance.now();
  const unmapped = t.unmapRange(IOVA, len, g);
  const t3 = performance.now();
  if (unmapped !== len) throw new Error(`scale unmap returned ${String(unmapped)}, wanted ${len}`);
  putPagesList(t.common.mem, g.freelist);
  t.deinit();
  const row = (op: 'map' | 'unmap', ms: number): ScaleRow => ({
    format: f.key,
    op,
    pgsizeLg2: shape.pgsizeLg2,
    pgcount: shape.pgcount,
    totalMs: ms,
    nsPerPage: (ms * 1e6) / shape.pgcount,
    tablePages,
    minTablePages: minPages,
    peakRssMiB: peakRssMiB(),
  });
  return [row('map', t1 - t0), row('unmap', t3 - t2)];
}
