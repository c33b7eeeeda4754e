/**
 * What the old io-pgtable entry points did around their per-page walks
 * (iommu_v1/v2_map_pages and unmap_pages, and the AMD driver's wrappers in
 * v6.12): reject a page size the table does not have, a zero count and a
 * prot without read or write; report the bytes mapped; add each unmap to the
 * gather. The arguments are checked at the same JS API edge as PtIommu's
 * (u64Split), so old and new are timed call for call.
 */
import { IOMMU_READ, IOMMU_WRITE, PtError, U64Pair, u64Split, type U64 } from '@genpt/pt-core';
import { iommuIotlbGatherAddRange, IommuIotlbGather } from '@genpt/iommu-ops';

const TWO32 = 4294967296;

export class OldApiEdge {
  private readonly a = new U64Pair();
  private readonly b = new U64Pair();
  private readonly c = new U64Pair();

  /** @param pgsizes the page sizes the old table offered, as lg2 flags (bit n set: 2^n) below 2^53 */
  constructor(private readonly pgsizes: (lg2: number) => boolean) {}

  /** The checks before a map; returns the IOVA and PA as numbers and the page size's lg2. */
  map(iova: U64, paddr: U64, pgsize: number, pgcount: number, prot: number, out: { iova: number; paddr: number; lg2: number }): void {
    u64Split(iova, this.a, 'iova');
    u64Split(paddr, this.b, 'paddr');
    out.lg2 = this.pages(pgsize, pgcount);
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) throw new PtError('EINVAL', 'map needs IOMMU_READ or IOMMU_WRITE');
    out.iova = this.a.hi * TWO32 + (this.a.lo >>> 0);
    out.paddr = this.b.hi * TWO32 + (this.b.lo >>> 0);
  }

  /** The checks before an unmap; returns the IOVA as a number and the page size's lg2. */
  unmap(iova: U64, pgsize: number, pgcount: number, gather: IommuIotlbGather, out: { iova: number; lg2: number }): void {
    if (!(gather instanceof IommuIotlbGather)) throw new PtError('EINVAL', 'unmap needs an IommuIotlbGather');
    u64Split(iova, this.a, 'iova');
    out.lg2 = this.pages(pgsize, pgcount);
    out.iova = this.a.hi * TWO32 + (this.a.lo >>> 0);
  }

  /** amd_iommu_iotlb_gather_add_page(): the bytes unmapped join the gather's range. */
  gatherAdd(gather: IommuIotlbGather, iova: number, size: number): void {
    if (size === 0) return;
    iommuIotlbGatherAddRange(gather, (iova / TWO32) | 0, iova | 0, (size / TWO32) | 0, size | 0);
  }

  /** The same argument checks as PtIommu's pagesLen, then the old table's page-size check. */
  private pages(pgsize: number, pgcount: number): number {
    const c = this.c;
    u64Split(pgsize, c, 'pgsize');
    const hi = c.hi;
    const lo = c.lo;
    if ((hi === 0 && (lo === 0 || (lo & (lo - 1)) !== 0)) || (hi !== 0 && (lo !== 0 || (hi & (hi - 1)) !== 0))) {
      throw new PtError('EINVAL', `pgsize ${String(pgsize)} is not a power of two`);
    }
    const lg2 = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
    if (!this.pgsizes(lg2)) throw new PtError('EINVAL', `page size ${pgsize} is not one the table has`);
    u64Split(pgcount, c, 'pgcount');
    if ((c.hi | c.lo) === 0) throw new PtError('EINVAL', 'page count 0');
    return lg2;
  }
}
