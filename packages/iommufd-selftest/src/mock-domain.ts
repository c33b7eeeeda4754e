/**
 * The selftest's mock iommu_domain (struct mock_iommu_domain in
 * drivers/iommu/iommufd/selftest.c): an amdv1_mock page table driven by the
 * iommupt ops, with the selftest's aperture and page size overrides, and
 * dirty tracking ops when allocated for it.
 */
import { TableMemory, u64OfBig, type U64 } from '@genpt/pt-core';
import { IommuDirtyBitmap, type IommuIotlbGather, PtIommu, iommuIotlbSync, iommuMap, iommuUnmap, type IovaBitmap } from '@genpt/iommu-ops';
import { fail } from './errors.js';
import { iommuMock } from './mock-format.js';
import {
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_IOMMUPT_DEFAULT,
  MOCK_IOMMUPT_HUGE,
  PAGE_SIZE,
} from './uapi.js';

/** mock->flags: dirty tracking is enabled. */
export const MOCK_DIRTY_TRACK = 1;

/** struct iommu_hwpt_selftest: the driver data a HWPT can be allocated with. */
export interface IommuHwptSelftest {
  iotlb: number;
  pagetableType?: number;
}

export class MockDomain {
  readonly pagetableType: number;
  readonly table: PtIommu;
  readonly mem: TableMemory;
  /** domain->dirty_ops is set: allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING. */
  readonly hasDirtyOps: boolean;
  /** mock->flags */
  flags = 0;
  /** domain->geometry, inclusive end. */
  readonly apertureStart: bigint;
  readonly apertureEnd: bigint;

  private constructor(pagetableType: number, table: PtIommu, mem: TableMemory, hasDirtyOps: boolean) {
    this.pagetableType = pagetableType;
    this.table = table;
    this.mem = mem;
    this.hasDirtyOps = hasDirtyOps;
    if (pagetableType === MOCK_IOMMUPT_DEFAULT) {
      // The selftest narrows the aperture so IOVA allocation has edges to test.
      this.apertureStart = BigInt(MOCK_APERTURE_START);
      this.apertureEnd = BigInt(MOCK_APERTURE_LAST);
    } else {
      this.apertureStart = BigInt(table.domain.geometry.apertureStart);
      this.apertureEnd = BigInt(table.domain.geometry.apertureEnd);
    }
  }

  /** mock_domain_alloc_pgtable(): flags are the HWPT alloc flags. */
  static alloc(cfg: IommuHwptSelftest, flags: number): MockDomain {
    const type = cfg.pagetableType ?? MOCK_IOMMUPT_DEFAULT;
    if (type !== MOCK_IOMMUPT_DEFAULT && type !== MOCK_IOMMUPT_HUGE) fail('EOPNOTSUPP', `pagetable_type ${type}`);
    const mem = new TableMemory();
    // The mock build supports no features: a fixed top at level 2 spanning 38 bits.
    const table = PtIommu.init(iommuMock, { features: 0, hwMaxVaszLg2: 56, hwMaxOaszLg2: 51, startingLevel: 2 }, { mem });
    if (type === MOCK_IOMMUPT_HUGE) {
      // Only exact 1 MiB leaves, plus PAGE_SIZE so iommufd accepts the domain.
      table.domain.pgsizeBitmap = BigInt(MOCK_HUGE_PAGE_SIZE | PAGE_SIZE);
    }
    return new MockDomain(type, table, mem, (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) !== 0);
  }

  get pgsizeBitmap(): bigint {
    return this.table.domain.pgsizeBitmap;
  }

  /** 1 << __ffs(pgsize_bitmap): the IOVA granule this domain imposes on an IOAS. */
  get minPageSize(): bigint {
    const b = this.pgsizeBitmap;
    return b & -b;
  }

  /** iommu_map(): on failure the mapped part is undone. */
  map(iova: bigint, paddr: number, length: bigint, prot: number): void {
    iommuMap(this.table.domain, u64OfBig(iova), paddr, u64OfBig(length), prot);
  }

  /** iommu_unmap(): returns the bytes unmapped. */
  unmap(iova: bigint, length: bigint): bigint {
    return BigInt(iommuUnmap(this.table.domain, u64OfBig(iova), u64OfBig(length)));
  }

  /** domain->ops->iova_to_phys() */
  iovaToPhys(iova: bigint): bigint {
    return BigInt(this.table.iovaToPhys(u64OfBig(iova)));
  }

  /** mock_domain_set_dirty_tracking() */
  setDirtyTracking(enable: boolean): void {
    if (enable && !this.hasDirtyOps) fail('EINVAL', 'domain has no dirty ops');
    this.flags = enable ? this.flags | MOCK_DIRTY_TRACK : this.flags & ~MOCK_DIRTY_TRACK;
  }

  /** dirty_ops->read_and_clear_dirty(), reporting into bitmap and gather. */
  readAndClearDirty(iova: bigint, length: bigint, flags: number, bitmap: IovaBitmap | null, gather: IommuIotlbGather): void {
    if (!this.hasDirtyOps) fail('EOPNOTSUPP', 'domain has no dirty ops');
    this.table.readAndClearDirty(u64OfBig(iova), u64OfBig(length), flags, new IommuDirtyBitmap(bitmap, gather));
  }

  /** iommu_iotlb_sync() with the mock's iotlb_sync: free the gathered tables. */
  iotlbSync(gather: IommuIotlbGather): void {
    iommuIotlbSync(this.table.domain, gather);
  }

  /** pt_iommu_ops->set_dirty (the test op that plays the hardware). */
  setDirty(iova: U64): void {
    this.table.setDirty(iova);
  }

  /** mock_domain_free(): pt_iommu_deinit. Returns table pages still allocated (0 unless leaked). */
  free(): number {
    this.table.deinit();
    return this.mem.allocatedBlocks().length;
  }
}
