/**
 * struct iommu_iotlb_gather and its helpers (include/linux/iommu.h): the
 * IOVA range an operation changed, and the table pages that may only be
 * freed once the IOTLB no longer holds walks through them.
 */
import {
  u64AddHi,
  u64AddHiOfSum,
  u64AddLo,
  u64AddLoSum,
  u64DecHi,
  u64DecLo,
  u64Hex,
  u64IncHi,
  u64IncLo,
  u64Lt,
  u64Value,
  type U64,
} from '@genpt/pt-core';

export class IommuIotlbGather {
  /** First IOVA to invalidate (ULONG_MAX when empty). */
  startHi = -1;
  startLo = -1;
  /** Last IOVA to invalidate, inclusive (0 when empty). */
  endHi = 0;
  endLo = 0;
  /** Page size hint for page-based invalidation (not used by iommupt). */
  pgsize = 0;
  /** Table pages (PAs) to free after the flush. */
  freelist: number[] = [];
  /** DMA-FQ mode: the range will be flushed wholesale later, so it is not gathered. */
  queued = false;

  get start(): U64 {
    return u64Value(this.startHi, this.startLo);
  }

  get end(): U64 {
    return u64Value(this.endHi, this.endLo);
  }

  /** Hex start/end, as the golden traces print them. */
  toJSON(): { start: string; end: string; freelist: number } {
    return { start: u64Hex(this.startHi, this.startLo), end: u64Hex(this.endHi, this.endLo), freelist: this.freelist.length };
  }
}

/** iommu_iotlb_gather_init(): start ULONG_MAX, end 0, empty free list. */
export function iommuIotlbGatherInit(g: IommuIotlbGather): void {
  g.startHi = -1;
  g.startLo = -1;
  g.endHi = 0;
  g.endLo = 0;
  g.pgsize = 0;
  // A fresh list only if the old one is still referenced with pages on it.
  if (g.freelist.length !== 0) g.freelist = [];
  g.queued = false;
}

/**
 * iommu_iotlb_gather_add_range(): widen to cover [iova, iova + size - 1].
 * A size of 0 adds the empty range [iova, iova - 1], wrapping at 0 as the
 * kernel's unsigned arithmetic does.
 */
export function iommuIotlbGatherAddRange(g: IommuIotlbGather, iovaHi: number, iovaLo: number, sizeHi: number, sizeLo: number): void {
  // end = iova + size - 1 (mod 2^64)
  const sum = u64AddLoSum(iovaLo, sizeLo);
  const e1Hi = u64AddHiOfSum(sum, iovaHi, sizeHi);
  const endHi = u64DecHi(e1Hi, sum | 0);
  const endLo = u64DecLo(e1Hi, sum | 0);
  if (u64Lt(iovaHi, iovaLo, g.startHi, g.startLo)) {
    g.startHi = iovaHi | 0;
    g.startLo = iovaLo | 0;
  }
  if (u64Lt(g.endHi, g.endLo, endHi, endLo)) {
    g.endHi = endHi;
    g.endLo = endLo;
  }
}

/**
 * iommu_iotlb_gather_is_disjoint(): the gather holds a range and
 * [iova, iova + size - 1] neither overlaps nor touches it.
 */
export function iommuIotlbGatherIsDisjoint(g: IommuIotlbGather, iovaHi: number, iovaLo: number, sizeHi: number, sizeLo: number): boolean {
  if ((g.endHi | g.endLo) === 0) return false;
  // end + 1 = iova + size; gather end + 1
  const e1Lo = u64AddLo(iovaHi, iovaLo, sizeHi, sizeLo);
  const e1Hi = u64AddHi(iovaHi, iovaLo, sizeHi, sizeLo);
  const g1Lo = u64IncLo(g.endHi, g.endLo);
  const g1Hi = u64IncHi(g.endHi, g.endLo);
  return u64Lt(e1Hi, e1Lo, g.startHi, g.startLo) || u64Lt(g1Hi, g1Lo, iovaHi, iovaLo);
}

/** Table pages on the gather's free list, in 4 KiB units. */
export function gatherFreedPages(g: IommuIotlbGather, pageCount: (pa: number) => number): number {
  let n = 0;
  for (const pa of g.freelist) n += pageCount(pa);
  return n;
}
