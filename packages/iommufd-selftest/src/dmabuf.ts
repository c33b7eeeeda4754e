/**
 * The selftest's dma-buf exporter (IOMMU_TEST_OP_DMABUF_GET / _REVOKE): a
 * physically contiguous buffer iommufd imports through IOMMU_IOAS_MAP_FILE.
 * Its pages are not pinned; a revoke makes every importer unmap them from
 * its domains, after which those imports stay revoked.
 */
import { fail } from './errors.js';
import type { PhysMemory } from './mm.js';
import type { IoptPages } from './pages.js';
import { PAGE_SIZE } from './uapi.js';

export class DmaBuf {
  readonly pfn: number;
  readonly size: number;
  revoked = false;
  /** iopt_pages attached to this buffer (dma_buf_dynamic_attach). */
  readonly importers = new Set<IoptPages>();

  constructor(phys: PhysMemory, length: number) {
    const len = Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    if (len === 0 || len > PAGE_SIZE * 512) fail('EINVAL', 'dma-buf length');
    this.size = len;
    this.pfn = phys.allocContig(len / PAGE_SIZE);
  }

  /** DMABUF_REVOKE: set the state and tell every importer (dma_buf_invalidate_mappings). */
  revoke(revoked: boolean): void {
    this.revoked = revoked;
    for (const pages of [...this.importers]) pages.revokeNotify();
  }
}
