/**
 * pdom_ids: the IDA that hands out 16-bit domain IDs (1..65535), shared by
 * protection domains and the per-device IDs of GCR3 tables. Lowest free
 * first, as ida_alloc_range does.
 */
import { MAX_DOMAIN_ID } from './types.js';

export class DomainIds {
  private readonly used = new Set<number>();
  private hint = 1;

  /** amd_iommu_pdom_id_alloc(): an ID, or -ENOSPC when all are taken. */
  alloc(): number {
    for (let id = this.hint; id < MAX_DOMAIN_ID; id++) {
      if (!this.used.has(id)) {
        this.used.add(id);
        this.hint = id + 1;
        return id;
      }
    }
    for (let id = 1; id < this.hint; id++) {
      if (!this.used.has(id)) {
        this.used.add(id);
        this.hint = id + 1;
        return id;
      }
    }
    return -28; // ENOSPC
  }

  /** amd_iommu_pdom_id_free() */
  free(id: number): void {
    if (!this.used.delete(id)) throw new RangeError(`domain id ${id} was not allocated`);
    if (id < this.hint) this.hint = id;
  }

  get inUse(): number {
    return this.used.size;
  }
}
