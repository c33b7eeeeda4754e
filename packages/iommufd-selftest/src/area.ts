/**
 * struct iopt_area: a range of IOVA in one io_pagetable mapped to a slice of
 * an iopt_pages. While the IOAS has domains, the area is "filled": its pages
 * are pinned and mapped into every domain, and storageDomain names the domain
 * the kernel would read the pfns back from.
 */
import type { IntervalNode } from './interval.js';
import type { MockDomain } from './mock-domain.js';
import type { IoptPages } from './pages.js';
import { PAGE_SIZE } from './uapi.js';

export class IoptArea implements IntervalNode {
  /** IOVA of the first byte and the last byte (node.start / node.last). */
  start: bigint;
  last: bigint;
  /** Page indexes of pages this area covers (pages_node). */
  pagesStart: number;
  pagesLast: number;
  /** Bytes into the first page where the area starts. */
  pageOffset: number;
  /** IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE */
  iommuProt: number;
  /** Null until the area is fully set up (and again while it is torn down). */
  pages: IoptPages | null = null;
  storageDomain: MockDomain | null = null;
  numAccesses = 0;
  numLocks = 0;
  preventAccess = false;

  constructor(start: bigint, last: bigint, startByte: number, length: number, iommuProt: number) {
    this.start = start;
    this.last = last;
    this.pageOffset = startByte % PAGE_SIZE;
    this.pagesStart = Math.floor(startByte / PAGE_SIZE);
    this.pagesLast = Math.floor((startByte + length - 1) / PAGE_SIZE);
    this.iommuProt = iommuProt;
  }

  get length(): bigint {
    return this.last - this.start + 1n;
  }

  /** iopt_area_start_byte(): byte offset into the pages of an IOVA inside the area. */
  startByte(iova: bigint): number {
    return Number(iova - this.start) + this.pageOffset + this.pagesStart * PAGE_SIZE;
  }

  /** iopt_area_iova_to_index() */
  indexOf(iova: bigint): number {
    return Math.floor(this.startByte(iova) / PAGE_SIZE);
  }
}
