/**
 * The parts of iommu_pt.h that never touch an entry, shared by every format:
 * range construction, incoherent-walker cache maintenance, table allocation
 * and freeing, and turning freed tables and ranges into gather updates.
 */
import {
  Errno,
  ptCheckRange,
  ptMakeRange,
  ptTopMemsizeLg2,
  u64AddHi,
  u64AddLo,
  u64AddOverflows,
  u64DecHi,
  u64DecLo,
  type PtCommon,
  type PtRange,
  type PtState,
  type TableMemory,
} from '@genpt/pt-core';
import { iommuIotlbGatherAddRange, iommuIotlbGatherInit, iommuIotlbGatherIsDisjoint, type IommuIotlbGather } from './gather.js';
import type { IommuDomain } from './domain.js';
import type { PtIommu } from './pt-iommu.js';

/**
 * make_range_no_check(): [iova, iova + len - 1] on the current top.
 * len 0 is EINVAL; a range wrapping past 2^64 is EOVERFLOW.
 */
export function makeRangeNoCheck(common: PtCommon, range: PtRange, iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): number {
  if ((lenHi | lenLo) === 0) return -Errno.EINVAL;
  // last = iova + (len - 1)
  const l1Lo = u64DecLo(lenHi, lenLo);
  const l1Hi = u64DecHi(lenHi, lenLo);
  if (u64AddOverflows(iovaHi, iovaLo, l1Hi, l1Lo)) return -Errno.EOVERFLOW;
  const lastLo = u64AddLo(iovaHi, iovaLo, l1Hi, l1Lo);
  const lastHi = u64AddHi(iovaHi, iovaLo, l1Hi, l1Lo);
  ptMakeRange(common, iovaHi, iovaLo, lastHi, lastLo, range);
  return 0;
}

/** make_range(): make_range_no_check() then pt_check_range(). */
export function makeRange(common: PtCommon, range: PtRange, iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): number {
  const ret = makeRangeNoCheck(common, range, iovaHi, iovaLo, lenHi, lenLo);
  return ret !== 0 ? ret : ptCheckRange(range);
}

/** flush_writes_range(): write back items [start, end) for an incoherent walker. */
export function flushWritesRange(t: PtIommu, pts: PtState, startIndex: number, endIndex: number): void {
  if (t.common.featDmaIncoherent) {
    const b = t.common.itemBytesLg2;
    t.iommuDevice!.flushIncoherent(pts.table, startIndex << b, (endIndex - startIndex) << b);
  }
}

/** flush_writes_item(): write back the item pts points at. */
export function flushWritesItem(t: PtIommu, pts: PtState): void {
  const b = t.common.itemBytesLg2;
  if (t.common.featDmaIncoherent) t.iommuDevice!.flushIncoherent(pts.table, pts.index << b, 1 << b);
}

/** Bytes of the table block at pa. */
export function tableBytes(common: PtCommon, pa: number): number {
  return 2 ** common.mem.blockLg2(pa);
}

/** iommu_pages_stop_incoherent_list() */
export function stopIncoherentList(t: PtIommu, list: number[]): void {
  const dev = t.iommuDevice!;
  for (const pa of list) dev.stopIncoherent(pa, tableBytes(t.common, pa));
}

/** iommu_put_pages_list(): free every table on the list. */
export function putPagesList(mem: TableMemory, list: number[]): void {
  for (const pa of list) mem.free(pa);
  list.length = 0;
}

/** iommu_pages_free_incoherent(): undo a table allocation. */
export function freeTableIncoherent(t: PtIommu, pa: number): void {
  if (t.common.featDmaIncoherent) t.iommuDevice!.stopIncoherent(pa, tableBytes(t.common, pa));
  t.common.mem.free(pa);
}

export const ALLOC_NORMAL = 0;
/** New tops are made visible once, after all their links are written. */
export const ALLOC_DEFER_COHERENT_FLUSH = 1;

/** _table_alloc(): a zeroed table of 2^lg2sz bytes; its PA or a negative errno. */
export function tableAllocLg2(t: PtIommu, lg2sz: number, mode: number): number {
  const pa = t.common.mem.alloc(lg2sz);
  if (pa < 0) return -Errno.ENOMEM;
  if (mode === ALLOC_NORMAL && t.common.featDmaIncoherent) {
    const ret = t.iommuDevice!.startIncoherent(pa, tableBytes(t.common, pa));
    if (ret) {
      t.common.mem.free(pa);
      return ret;
    }
  }
  return pa;
}

/** table_alloc_top(): a top table for topLevel, sized for growth with DYNAMIC_TOP. */
export function tableAllocTop(t: PtIommu, topLevel: number, mode: number): number {
  return tableAllocLg2(t, ptTopMemsizeLg2(t.common, topLevel), mode);
}

/** table_alloc(): the lower table for an item of parentPts. */
export function tableAllocChild(t: PtIommu, parentPts: PtState, mode: number): number {
  return tableAllocLg2(t, t.common.tableBytesLg2(parentPts.level - 1), mode);
}

/**
 * iommu_iotlb_sync(): have the driver flush and free the gather if it holds
 * a range, then reset it.
 */
export function iommuIotlbSync(domain: IommuDomain, g: IommuIotlbGather): void {
  const sync = domain.ops.iotlbSync;
  const ordered = g.startHi >>> 0 < g.endHi >>> 0 || (g.startHi === g.endHi && g.startLo >>> 0 < g.endLo >>> 0);
  if (sync !== undefined && ordered) sync.call(domain.ops, domain, g);
  iommuIotlbGatherInit(g);
}

/**
 * Before an op changes [iova, iova + len - 1] while its gather already holds
 * other changes: with FLUSH_RANGE_NO_GAPS, a range the gather would not
 * merge with is flushed first, so every flush covers only changes made.
 */
export function gatherBeforeChange(g: IommuIotlbGather, t: PtIommu, iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void {
  if (t.common.featFlushRangeNoGaps && !g.queued && iommuIotlbGatherIsDisjoint(g, iovaHi, iovaLo, lenHi, lenLo)) {
    iommuIotlbSync(t.domain, g);
  }
}

/**
 * gather_range_pages(): record [iova, iova + len - 1] and the freed tables in
 * the gather. With FLUSH_RANGE_NO_GAPS a range disjoint from the gather's is
 * flushed on its own first. (A queued gather, DMA-FQ, skips the range.)
 */
export function gatherRangePages(
  g: IommuIotlbGather,
  t: PtIommu,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
  freeList: number[],
): void {
  const common = t.common;
  if (common.featDmaIncoherent) stopIncoherentList(t, freeList);
  if (!g.queued) {
    if (common.featFlushRangeNoGaps && iommuIotlbGatherIsDisjoint(g, iovaHi, iovaLo, lenHi, lenLo)) {
      iommuIotlbSync(t.domain, g);
    }
    iommuIotlbGatherAddRange(g, iovaHi, iovaLo, lenHi, lenLo);
  }
  if (freeList.length !== 0) {
    for (let i = 0; i < freeList.length; i++) g.freelist.push(freeList[i]!);
    freeList.length = 0;
  }
}
