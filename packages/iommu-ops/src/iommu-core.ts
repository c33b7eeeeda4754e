/**
 * The iommu core calls (drivers/iommu/iommu.c) as they work for an iommupt
 * domain in Linux 7.0: map_range / unmap_range are called directly, a failed
 * map is rolled back, and unmap is followed by an IOTLB sync.
 */
import { PtError, type U64 } from '@genpt/pt-core';
import type { IommuDomain } from './domain.js';
import { IommuIotlbGather } from './gather.js';
import { iommuIotlbSync } from './helpers.js';

/**
 * iommu_map(): map, and on failure unmap whatever part was mapped before
 * rethrowing. Returns nothing on success, like the kernel's 0.
 */
export function iommuMap(domain: IommuDomain, iova: U64, paddr: U64, size: U64, prot: number, gfp = 0): void {
  try {
    domain.table.mapRange(iova, paddr, size, prot, gfp);
  } catch (e) {
    if (e instanceof PtError && e.mapped !== undefined && e.mapped !== 0 && e.mapped !== 0n) {
      iommuUnmap(domain, iova, e.mapped);
    }
    throw e;
  }
  const syncMap = domain.ops.iotlbSyncMap;
  if (syncMap !== undefined) {
    const ret = syncMap.call(domain.ops, domain, iova, size);
    if (ret) {
      iommuUnmap(domain, iova, size);
      throw PtError.fromErrno(ret, 'iotlb_sync_map');
    }
  }
}

/** iommu_unmap_fast(): unmap into the caller's gather. */
export function iommuUnmapFast(domain: IommuDomain, iova: U64, size: U64, gather: IommuIotlbGather): U64 {
  return domain.table.unmapRange(iova, size, gather);
}

/** iommu_unmap(): unmap and flush. Returns the bytes unmapped. */
export function iommuUnmap(domain: IommuDomain, iova: U64, size: U64): U64 {
  const gather = new IommuIotlbGather();
  const ret = domain.table.unmapRange(iova, size, gather);
  iommuIotlbSync(domain, gather);
  return ret;
}

/** iommu_iova_to_phys() for a paging domain. */
export function iommuIovaToPhys(domain: IommuDomain, iova: U64): U64 {
  return domain.table.iovaToPhys(iova);
}
