/**
 * The rows emulators and iommufd live on beyond map/unmap: the hitless ops
 * (cut of a 2 MiB leaf and its collapse back, split of 1 GiB to 4 KiB and
 * its collapse back), read_and_clear_dirty over 1 GiB with 1% dirty,
 * preserve and restore of a 64 GiB table of 4 KiB pages, and the AMD
 * hardware model's DMA translation (IOTLB hit, and miss with a full walk).
 * Each timed as the pair rows are: a loop with one clock read around it,
 * setup outside it. No kernel figures exist for these (Linux 7.0 has none
 * of the hitless ops, KHO preserve is not merged, and the AMD rows are a
 * model of hardware): the reference column is '-'.
 */
import { performance } from 'node:perf_hooks';
import { createAmdIommuSystem, IOMMU_READ, IOMMU_WRITE } from '@genpt/amd-driver';
import { IommuDirtyBitmap, IommuIotlbGather, PtIommu, PtSpinLock, putPagesList } from '@genpt/iommu-ops';
import { ptTableMemoryFor } from '@genpt/pt-core';
import { formats } from '../formats.js';
import { median } from './seed.js';
import { type BenchTable, makeBenchTable } from './tables.js';

export interface LiveOpRow {
  kind: 'liveOp';
  format: string;
  config: string;
  /** What was timed, e.g. "cut 2M", "split 1G->4K", "readAndClearDirty 1G 1%". */
  op: string;
  /** ns per op (one op = one call of the row's kind). */
  ns: number;
  /** Calls the figure is the median of / averaged over. */
  calls: number;
}

/** The tables the live-op rows use: the two formats with kernel figures (and hitless ops: amdv1 both features, x86_64 OA_TABLE_XCHG). */
export const LIVE_OP_TABLES: readonly BenchTable[] = [
  { format: 'amdv1', config: 'host-l6' },
  { format: 'x86_64', config: 'amdv2-4' },
];

const RW = IOMMU_READ | IOMMU_WRITE;
const M2 = 2 ** 21;
const G1 = 2 ** 30;
/** Where the rows' ranges go (inside every config's VA) and the OA they map (iova + OFFSET). */
const BASE = 2 ** 32;

function row(bt: BenchTable, op: string, ms: number, calls: number): LiveOpRow {
  return { kind: 'liveOp', format: bt.format, config: bt.config, op, ns: (ms * 1e6) / calls, calls };
}

/** A bench table with the hitless features its format declares, or null when it has neither. */
function hitlessTable(bt: BenchTable): PtIommu | null {
  const t = makeBenchTable(bt);
  if (!t.featOaTableXchg && !t.featOaSizeChange) {
    t.deinit();
    return null;
  }
  return t;
}

/** cut_mapping() in the middle of each of `n` 2 MiB leaves, then collapse_range() of each back to one leaf. */
function cutAndCollapse(bt: BenchTable, n: number): LiveOpRow[] {
  const t = hitlessTable(bt);
  if (t === null) return [];
  const g = new IommuIotlbGather();
  t.mapRange(BASE, BASE, n * M2, RW);
  const rounds: Array<[number, number]> = [];
  for (let r = 0; r < 3; r++) {
    let t0 = performance.now();
    for (let i = 0; i < n; i++) t.cutMapping(BASE + i * M2 + 0x101000, g);
    const cutMs = performance.now() - t0;
    t0 = performance.now();
    for (let i = 0; i < n; i++) t.collapseRange(BASE + i * M2, M2, g);
    const collapseMs = performance.now() - t0;
    putPagesList(t.common.mem, g.freelist);
    rounds.push([cutMs, collapseMs]);
  }
  if (t.iovaToPhys(BASE + 0x101234) !== BASE + 0x101234) throw new Error(`bench: ${bt.format} cut/collapse lost a translation`);
  t.unmapRange(BASE, n * M2, g);
  putPagesList(t.common.mem, g.freelist);
  t.deinit();
  return [row(bt, 'cut 2M', median(rounds.map((x) => x[0])), n), row(bt, 'collapse 2M', median(rounds.map((x) => x[1])), n)];
}

/** split_range() of a 1 GiB leaf (or 2 MiB leaves where 1 GiB is not a page size) to 4 KiB, then collapse_range() back. */
function splitAndCollapse(bt: BenchTable): LiveOpRow[] {
  const t = hitlessTable(bt);
  if (t === null) return [];
  const g = new IommuIotlbGather();
  t.mapRange(BASE, BASE, G1, RW);
  const split: number[] = [];
  const collapse: number[] = [];
  for (let r = 0; r < 5; r++) {
    let t0 = performance.now();
    t.splitRange(BASE, G1, 12, g);
    split.push(performance.now() - t0);
    putPagesList(t.common.mem, g.freelist);
    t0 = performance.now();
    t.collapseRange(BASE, G1, g);
    collapse.push(performance.now() - t0);
    putPagesList(t.common.mem, g.freelist);
  }
  if (t.iovaToPhys(BASE + G1 - 1) !== BASE + G1 - 1) throw new Error(`bench: ${bt.format} split/collapse lost a translation`);
  t.unmapRange(BASE, G1, g);
  putPagesList(t.common.mem, g.freelist);
  t.deinit();
  return [row(bt, 'split 1G->4K', median(split), 1), row(bt, 'collapse 4K->1G', median(collapse), 1)];
}

/** read_and_clear_dirty() over 1 GiB of 4 KiB leaves with 1% of them (every 100th) dirtied by set_dirty first. */
function dirty1G(bt: BenchTable): LiveOpRow[] {
  const t = makeBenchTable(bt);
  if (!t.hasDirtyTracking) {
    t.deinit();
    return [];
  }
  // paddr = iova + 4 KiB: no larger leaf fits.
  t.mapRange(BASE, BASE + 4096, G1, RW);
  let found = 0;
  const bitmap = { set: () => void found++ };
  const dirty = new IommuDirtyBitmap(bitmap);
  const times: number[] = [];
  for (let r = 0; r < 5; r++) {
    for (let p = 0; p < G1 / 4096; p += 100) t.setDirty(BASE + p * 4096);
    found = 0;
    const t0 = performance.now();
    t.readAndClearDirty(BASE, G1, 0, dirty);
    times.push(performance.now() - t0);
    if (found !== Math.ceil(G1 / 4096 / 100)) throw new Error(`bench: ${bt.format} read_and_clear_dirty reported ${found} runs`);
  }
  const g = new IommuIotlbGather();
  t.unmapRange(BASE, G1, g);
  putPagesList(t.common.mem, g.freelist);
  t.deinit();
  return [row(bt, 'readAndClearDirty 1G 1%', median(times), 1)];
}

/** preserve() of a table mapping 64 GiB of 4 KiB pages, and restore() of it in the same memory (the old table abandoned). */
function preserveRestore64G(bt: BenchTable): LiveOpRow[] {
  const gf = formats.get(bt.format)!;
  const mem = ptTableMemoryFor(gf.format, { maxBytes: 2 ** 28 });
  const lock = new PtSpinLock();
  const opts = { mem, driverOps: { changeTop: () => {}, getTopLock: () => lock } };
  const base = makeBenchTable(bt);
  const cfg = { ...base.cfg };
  base.deinit();
  let t = PtIommu.init(gf.format, cfg as never, opts);
  const len = 64 * G1;
  t.mapRange(BASE, BASE + 4096, len, RW);
  const pres: number[] = [];
  const rest: number[] = [];
  for (let r = 0; r < 3; r++) {
    let t0 = performance.now();
    const d = t.preserve();
    pres.push(performance.now() - t0);
    t0 = performance.now();
    t = PtIommu.restore(gf.format, d, mem, opts);
    rest.push(performance.now() - t0);
  }
  if (t.iovaToPhys(BASE + len - 1) !== BASE + 4096 + len - 1) throw new Error(`bench: ${bt.format} restore lost a translation`);
  t.deinit();
  return [row(bt, 'preserve 64G of 4K', median(pres), 1), row(bt, 'restore 64G of 4K', median(rest), 1)];
}

/**
 * The AMD IOMMU model's translation of a device access (translateAccess, as
 * a DMA translates each page): 20,000 distinct 4 KiB pages of a 1 GiB v1
 * domain, first with the IOTLB emptied (each a miss and a full table walk),
 * then again (each an IOTLB hit). With `checkStale` (the model's default)
 * every use of cached state is also compared with a fresh walk (the
 * invalidation oracle); without it the model translates as hardware does.
 */
function amdDma(checkStale: boolean): LiveOpRow[] {
  const { driver, hw } = createAmdIommuSystem({ hw: { checkStale } });
  const dev = driver.probeDevice(0, 0x10);
  const domain = driver.domainAllocPaging(dev);
  domain.attachDev(dev);
  domain.map(BASE, BASE + 4096, G1, RW);
  const n = 20_000;
  const vas: number[] = [];
  // An odd stride through the 2^18 pages: n distinct pages.
  for (let i = 0; i < n; i++) vas.push(BASE + ((i * 40503) % 262144) * 4096 + (i & 0xfff));
  const bt = { format: 'amdv1', config: checkStale ? 'amd-driver v1' : 'v1 no oracle' };
  const miss: number[] = [];
  const hit: number[] = [];
  for (let r = 0; r < 5; r++) {
    hw.iotlb.clear();
    let t0 = performance.now();
    for (let i = 0; i < n; i++) hw.translateAccess(0x10, vas[i]!, false);
    miss.push(performance.now() - t0);
    t0 = performance.now();
    for (let i = 0; i < n; i++) hw.translateAccess(0x10, vas[i]!, false);
    hit.push(performance.now() - t0);
  }
  const r = hw.translateAccess(0x10, vas[7]!, false);
  if (!r.ok || r.oa !== vas[7]! + 4096) throw new Error('bench: AMD model translated a DMA wrongly');
  driver.blockDevice(dev);
  domain.free();
  return [row(bt, 'DMA translate, IOTLB miss', median(miss), n), row(bt, 'DMA translate, IOTLB hit', median(hit), n)];
}

/** Every live-op row. `quick`: fewer leaves (the figures are rough). */
export function measureLiveOps(quick: boolean, progress: (what: string) => void): LiveOpRow[] {
  const out: LiveOpRow[] = [];
  for (const bt of LIVE_OP_TABLES) {
    progress(`live ops: ${bt.format} ${bt.config} cut/collapse`);
    out.push(...cutAndCollapse(bt, quick ? 64 : 1024));
    progress(`live ops: ${bt.format} ${bt.config} split/collapse`);
    out.push(...splitAndCollapse(bt));
    progress(`live ops: ${bt.format} ${bt.config} read_and_clear_dirty`);
    out.push(...dirty1G(bt));
    progress(`live ops: ${bt.format} ${bt.config} preserve/restore`);
    out.push(...preserveRestore64G(bt));
  }
  progress('live ops: AMD IOMMU model DMA');
  out.push(...amdDma(true), ...amdDma(false));
  return out;
}
