/**
 * HWPT_PAGING objects (drivers/iommu/iommufd/hw_pagetable.c): a mock domain
 * linked to an IOAS. Automatic ones are made by attaching a device to an IOAS
 * and go away with their last device; manual ones come from IOMMU_HWPT_ALLOC.
 */
import { fail } from './errors.js';
import type { IommufdIoas } from './ioas.js';
import { MockDomain, type IommuHwptSelftest } from './mock-domain.js';
import { IommufdObject } from './objects.js';
import { iommuHwptSelftest, iommuHwptSelftestIotlb } from './uapi-check.js';
import {
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_FAULT_ID_VALID,
  MOCK_FLAGS_DEVICE_NO_DIRTY,
} from './uapi.js';

export class HwptPaging extends IommufdObject {
  readonly type = 'hwpt_paging' as const;
  readonly ioas: IommufdIoas;
  readonly domain: MockDomain;
  autoDomain = false;
  readonly nestParent: boolean;
  readonly pasidCompat: boolean;
  /** Linked into the IOAS (its domain is in the io_pagetable). */
  private linked = false;

  constructor(ioas: IommufdIoas, domain: MockDomain, flags: number) {
    super();
    this.ioas = ioas;
    this.domain = domain;
    this.nestParent = (flags & IOMMU_HWPT_ALLOC_NEST_PARENT) !== 0;
    this.pasidCompat = (flags & IOMMU_HWPT_ALLOC_PASID) !== 0;
    ioas.users++;
  }

  /** iopt_table_add_domain() and list_add to the IOAS. */
  link(): void {
    this.ioas.iopt.addDomain(this.domain);
    this.ioas.hwptList.push(this);
    this.linked = true;
  }

  destroy(): void {
    if (this.linked) {
      this.ioas.hwptList.splice(this.ioas.hwptList.indexOf(this), 1);
      this.ioas.iopt.removeDomain(this.domain);
      this.linked = false;
    }
    const leaked = this.domain.free();
    if (leaked) throw new Error(`mock domain leaked ${leaked} table pages`);
    this.ioas.users--;
  }
}

/** Driver data handed to IOMMU_HWPT_ALLOC (struct iommu_user_data). */
export interface HwptUserData {
  type: number;
  /** What data_uptr points at; null stands for a NULL data_uptr. Read only when the driver copies it. */
  data: IommuHwptSelftest | null;
  /** data_len; sizeof(struct iommu_hwpt_selftest) is 8, offsetofend(iotlb) is 4. */
  len: number;
}

/** HwptUserData as the kernel reads it: data_uptr not yet dereferenced. */
export interface HwptUserDataArgs {
  type: number;
  data: unknown;
  len: number;
}

/** What the device's driver is asked about (struct mock_dev flags). */
export interface MockDevFlags {
  readonly flags: number;
}

const PAGING_FLAGS = IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_NEST_PARENT | IOMMU_HWPT_ALLOC_PASID;
const VALID_FLAGS = PAGING_FLAGS | IOMMU_HWPT_FAULT_ID_VALID;

/**
 * iommufd_hwpt_paging_alloc()'s checks and mock_domain_alloc_paging_flags():
 * the domain for a new HWPT, or the kernel's errno.
 */
export function allocMockDomain(dev: MockDevFlags, flags: number, userData: HwptUserDataArgs | null): MockDomain {
  if (flags & ~VALID_FLAGS) fail('EOPNOTSUPP', 'unknown HWPT flags');
  const noDirty = (dev.flags & MOCK_FLAGS_DEVICE_NO_DIRTY) !== 0;
  if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING && noDirty) fail('EOPNOTSUPP', 'device cannot track dirty pages');
  if (flags & IOMMU_HWPT_FAULT_ID_VALID && flags & IOMMU_HWPT_ALLOC_NEST_PARENT) fail('EOPNOTSUPP', 'fault with nest parent');
  const driverFlags = flags & ~IOMMU_HWPT_FAULT_ID_VALID;
  let cfg: IommuHwptSelftest = { iotlb: 0, pagetableType: 0 };
  if (userData !== null) {
    if (userData.type !== IOMMU_HWPT_DATA_SELFTEST && userData.type !== IOMMU_HWPT_DATA_NONE) fail('EOPNOTSUPP', 'data type');
    // iommu_copy_struct_from_user(): the type must match and cover the iotlb field.
    if (userData.type !== IOMMU_HWPT_DATA_SELFTEST || userData.len < 4) fail('EINVAL', 'selftest data');
    if (userData.data === null) fail('EFAULT', 'data pointer');
    // copy_struct_from_user() of data_len bytes: only a whole struct carries pagetable_type.
    cfg =
      userData.len >= 8
        ? iommuHwptSelftest.read(userData.data, 'hwptAlloc', 'data.data')
        : { ...iommuHwptSelftestIotlb.read(userData.data, 'hwptAlloc', 'data.data'), pagetableType: 0 };
  }
  return MockDomain.alloc(cfg, driverFlags);
}
