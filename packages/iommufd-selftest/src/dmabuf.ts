/**
 * The selftest's dma-buf exporter (IOMMU_TEST_OP_DMABUF_GET / _REVOKE): a
 * physically contiguous buffer iommufd imports through IOMMU_IOAS_MAP_FILE.
 * Its pages are not pinned; a revoke makes every importer unmap them from
 * its domains, after which those imports stay revoked.
 */
import { U64_MAX } from '@genpt/pt-core';
import { fail } from './errors.js';
import type { PhysMemory } from './mm.js';
import type { IoptPages } from './pages.js';
import { PAGE_SIZE } from './uapi.js';

const PAGE = BigInt(PAGE_SIZE);

export class DmaBuf {
  readonly pfn: number;
  readonly size: number;
  revoked = false;
  /** iopt_pages attached to this buffer (dma_buf_dynamic_attach). */
  readonly importers = new Set<IoptPages>();

  /** iommufd_test_dmabuf_get(): length (a size_t) is rounded up to pages; 0 or more than 512 pages is EINVAL. */
  constructor(phys: PhysMemory, length: bigint) {
    // ALIGN() in size_t: a length within a page of 2^64 wraps to 0.
    const len = (length + PAGE - 1n) & ~(PAGE - 1n) & U64_MAX;
    if (len === 0n || len > PAGE * 512n) fail('EINVAL', 'dma-buf length');
    this.size = Number(len);
    this.pfn = phys.allocContig(this.size / PAGE_SIZE);
  }

  /** DMABUF_REVOKE: set the state and tell every importer (dma_buf_invalidate_mappings). */
  revoke(revoked: boolean): void {
    this.revoked = revoked;
    for (const pages of [...this.importers]) pages.revokeNotify();
  }
}
