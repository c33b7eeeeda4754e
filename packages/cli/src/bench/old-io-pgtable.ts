/**
 * What the two old io-pgtable baselines share: tables in a PtIommu's own
 * memory, PTEs whose address field is bits 51:12, the PM_LEVEL_INDEX walk
 * step, and the entry points around the per-page walks (iommu_v1/v2_map_pages
 * and unmap_pages and the AMD driver's wrappers in v6.12). Those reject a
 * page size the table does not have, a zero count and a prot without read or
 * write, report the bytes mapped, and add each unmap to the gather. The
 * arguments are checked at the same JS API edge as PtIommu's (u64Split), so
 * old and new are timed call for call.
 */
import { IOMMU_READ, IOMMU_WRITE, PtError, U64Pair, u64Split, type U64 } from '@genpt/pt-core';
import { iommuIotlbGatherAddRange, IommuIotlbGather, type PtIommu } from '@genpt/iommu-ops';

export const TWO32 = 4294967296;
export const OA_LO = 0xfffff000 | 0;
export const OA_HI = 0x000fffff;

/** Index of `iova` (hi/lo words) at a level of 512-item tables: PM_LEVEL_INDEX. */
export function levelIndex(level: number, hi: number, lo: number): number {
  const shift = 12 + 9 * level;
  if (shift >= 32) return (hi >>> (shift - 32)) & 0x1ff;
  return ((lo >>> shift) | (hi << (32 - shift))) & 0x1ff;
}

export abstract class OldIoPgtable {
  protected readonly words: Int32Array;
  private readonly memBase: number;
  private readonly a = new U64Pair();
  private readonly b = new U64Pair();
  private readonly c = new U64Pair();

  /** @param pgsizes whether the old table had pages of 2^lg2 */
  constructor(
    protected readonly t: PtIommu,
    private readonly pgsizes: (lg2: number) => boolean,
  ) {
    this.words = t.common.words;
    this.memBase = t.common.memBasePa;
  }

  /** pgcount pages of 2^pgsizeLg2 from iova to paddr, one walk from the top each. */
  protected abstract walkMap(iova: number, paddr: number, pgsizeLg2: number, pgcount: number, prot: number): void;
  /** Up to pgcount pages from iova, one walk from the top each, until a hole; the bytes unmapped. */
  protected abstract walkUnmap(iova: number, pgsizeLg2: number, pgcount: number): number;

  /** map_pages() behind the old entry checks; returns the bytes mapped. */
  mapPages(iova: U64, paddr: U64, pgsize: number, pgcount: number, prot: number): number {
    u64Split(iova, this.a, 'iova');
    u64Split(paddr, this.b, 'paddr');
    const lg2 = this.pages(pgsize, pgcount);
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) throw new PtError('EINVAL', 'map needs IOMMU_READ or IOMMU_WRITE');
    this.walkMap(this.a.hi * TWO32 + (this.a.lo >>> 0), this.b.hi * TWO32 + (this.b.lo >>> 0), lg2, pgcount, prot);
    return pgsize * pgcount;
  }

  /** unmap_pages() behind the old entry checks; amd_iommu_iotlb_gather_add_page() of what it unmapped. */
  unmapPages(iova: U64, pgsize: number, pgcount: number, gather: IommuIotlbGather): number {
    if (!(gather instanceof IommuIotlbGather)) throw new PtError('EINVAL', 'unmap needs an IommuIotlbGather');
    u64Split(iova, this.a, 'iova');
    const lg2 = this.pages(pgsize, pgcount);
    const start = this.a.hi * TWO32 + (this.a.lo >>> 0);
    const unmapped = this.walkUnmap(start, lg2, pgcount);
    if (unmapped !== 0) {
      iommuIotlbGatherAddRange(gather, this.a.hi, this.a.lo, (unmapped / TWO32) | 0, unmapped | 0);
    }
    return unmapped;
  }

  /** Word index of item `index` of the table at tablePa. */
  protected wordOf(tablePa: number, index: number): number {
    return ((tablePa - this.memBase) >>> 2) + (index << 1);
  }

  /** The table address a PTE holds (bits 51:12). */
  protected tablePaOfValue(lo: number, hi: number): number {
    return (hi & OA_HI) * TWO32 + ((lo & OA_LO) >>> 0);
  }

  /** The table address the PTE at word w holds. */
  protected tablePaOf(w: number): number {
    return this.tablePaOfValue(this.words[w]!, this.words[w + 1]!);
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
