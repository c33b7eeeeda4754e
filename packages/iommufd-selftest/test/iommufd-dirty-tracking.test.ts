/**
 * FIXTURE(iommufd_dirty_tracking): a mock device on an IOAS mapping buffers
 * of 8 KiB .. 128 MiB (CPU pages, or hugetlb with 1 MiB mock leaves), dirty
 * bits set through the selftest's DIRTY op and read back with
 * IOMMU_HWPT_GET_DIRTY_BITMAP into aligned and unaligned user bitmaps.
 */
import { expect } from 'vitest';
import {
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_SET,
  MOCK_APERTURE_START,
  MOCK_FLAGS_DEVICE_NO_DIRTY,
  MOCK_FLAGS_DEVICE_PASID,
  MOCK_HUGE_PAGE_SIZE,
  MOCK_IOMMUPT_DEFAULT,
  MOCK_IOMMUPT_HUGE,
  MOCK_PAGE_SIZE,
} from '../dist/index.js';
import {
  HUGEPAGE_SIZE,
  PAGE_SIZE,
  describeFixture,
  expectErrno,
  openIommufd,
  teardownIommufd,
  testCmdGetHwInfo,
  testCmdHwptAlloc,
  testCmdHwptAllocIommupt,
  testCmdMockDomain,
  testCmdSetDirtyTracking,
  testErrHwptAlloc,
  testErrMockDomain,
  testIoctlDestroy,
  testIoctlIoasAlloc,
  testIoctlIoasMapFixedId,
  testMockDirtyBitmaps,
  type Proc,
  type SelfBase,
} from './harness.js';

interface Self extends SelfBase {
  ioasId: number;
  hwptId: number;
  stdevId: number;
  idevId: number;
  pageSize: number;
  bitmapSize: number;
  bitmap: number;
  buffer: number;
}

interface Variant {
  bufferSize: number;
  hugepages: boolean;
}

const K = 1024;
const M = 1024 * K;

const TEST_F = describeFixture<Variant, Self>(
  'iommufd_dirty_tracking',
  {
    domain_dirty8k: { bufferSize: 8 * K, hugepages: false }, // half of an u8 index bitmap
    domain_dirty16k: { bufferSize: 16 * K, hugepages: false }, // one u8 index bitmap
    domain_dirty64k: { bufferSize: 64 * K, hugepages: false }, // one u32 index bitmap
    domain_dirty128k: { bufferSize: 128 * K, hugepages: false }, // one u64 index bitmap
    domain_dirty320k: { bufferSize: 320 * K, hugepages: false }, // two u64 index and trailing end bitmap
    domain_dirty64M: { bufferSize: 64 * M, hugepages: false }, // 4K bitmap (64M IOVA range)
    domain_dirty64M_huge: { bufferSize: 64 * M, hugepages: true },
    domain_dirty128M: { bufferSize: 128 * M, hugepages: false }, // 8K bitmap (128M IOVA range)
    domain_dirty128M_huge: { bufferSize: 128 * M, hugepages: true },
  },
  (proc: Proc, variant) => {
    const self = { proc, fd: openIommufd(proc) } as Self;
    const mm = proc.mm;
    // MAP_HUGETLB lengths are whole huge pages.
    const mmapBufferSize = variant.hugepages ? Math.max(variant.bufferSize, HUGEPAGE_SIZE) : variant.bufferSize;
    self.buffer = mm.mmap(mmapBufferSize, { hugetlb: variant.hugepages, populate: variant.hugepages });
    self.pageSize = MOCK_PAGE_SIZE;
    self.bitmapSize = variant.bufferSize / self.pageSize;
    // Provision with an extra (PAGE_SIZE) for the unaligned case
    self.bitmap = mm.mmap(Math.ceil(self.bitmapSize / 8) + PAGE_SIZE);

    self.ioasId = testIoctlIoasAlloc(self);
    // For dirty testing it is important that the page size fed into the
    // iommu page tables matches the size the dirty logic expects, or
    // set_dirty can touch too much stuff.
    if (!variant.hugepages) self.fd.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: self.ioasId, val64: 0 });

    const ids = testCmdMockDomain(self, self.ioasId);
    self.stdevId = ids.stdevId;
    self.hwptId = ids.hwptId;
    self.idevId = ids.idevId;
    return self;
  },
  (self) => teardownIommufd(self),
);

TEST_F('enforce_dirty', (self) => {
  // Regular case
  const devFlags = MOCK_FLAGS_DEVICE_NO_DIRTY;
  const hwptId = testCmdHwptAlloc(self, self.idevId, self.ioasId, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
  const stddevId = testCmdMockDomain(self, hwptId).stdevId;
  testErrMockDomain(self, 'EINVAL', hwptId, devFlags);
  testIoctlDestroy(self, stddevId);
  testIoctlDestroy(self, hwptId);

  // IOMMU device does not support dirty tracking
  const ioasId = testIoctlIoasAlloc(self);
  const ids = testCmdMockDomain(self, ioasId, devFlags);
  testErrHwptAlloc(self, 'EOPNOTSUPP', ids.idevId, ioasId, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
  testIoctlDestroy(self, ids.stdevId);
});

TEST_F('set_dirty_tracking', (self) => {
  const hwptId = testCmdHwptAlloc(self, self.idevId, self.ioasId, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
  const stddevId = testCmdMockDomain(self, hwptId).stdevId;
  testCmdSetDirtyTracking(self, hwptId, true);
  testCmdSetDirtyTracking(self, hwptId, false);
  testIoctlDestroy(self, stddevId);
  testIoctlDestroy(self, hwptId);
});

TEST_F('pasid_set_dirty_tracking', (self) => {
  const pasid = 100;
  let devFlags = MOCK_FLAGS_DEVICE_PASID;

  // Regular case
  const hwptId = testCmdHwptAlloc(self, self.idevId, self.ioasId, IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
  let stddevId = testCmdMockDomain(self, hwptId, devFlags).stdevId;
  expect(self.fd.testPasidAttach(stddevId, pasid, hwptId)).toBe(hwptId);
  testCmdSetDirtyTracking(self, hwptId, true);
  testCmdSetDirtyTracking(self, hwptId, false);
  self.fd.testPasidDetach(stddevId, pasid);
  testIoctlDestroy(self, stddevId);

  // IOMMU device does not support dirty tracking
  devFlags |= MOCK_FLAGS_DEVICE_NO_DIRTY;
  const ioasId = testIoctlIoasAlloc(self);
  stddevId = testCmdMockDomain(self, ioasId, devFlags).stdevId;
  expectErrno('EINVAL', () => self.fd.testPasidAttach(stddevId, pasid, hwptId));

  testIoctlDestroy(self, stddevId);
  testIoctlDestroy(self, hwptId);
});

TEST_F('device_dirty_capability', (self) => {
  const hwptId = testCmdHwptAlloc(self, self.idevId, self.ioasId, 0);
  const stddevId = testCmdMockDomain(self, hwptId).stdevId;
  const { capabilities } = testCmdGetHwInfo(self, self.idevId, IOMMU_HW_INFO_TYPE_DEFAULT, null, 0);
  expect(capabilities & IOMMU_HW_CAP_DIRTY_TRACKING).toBe(IOMMU_HW_CAP_DIRTY_TRACKING);
  testIoctlDestroy(self, stddevId);
  testIoctlDestroy(self, hwptId);
});

function dirtyBitmaps(self: Self, variant: Variant, flags: number): void {
  const pageSize = variant.hugepages ? MOCK_HUGE_PAGE_SIZE : MOCK_PAGE_SIZE;
  testIoctlIoasMapFixedId(self, self.ioasId, self.buffer, variant.bufferSize, MOCK_APERTURE_START);
  const hwptId = testCmdHwptAllocIommupt(
    self,
    self.idevId,
    self.ioasId,
    IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
    variant.hugepages ? MOCK_IOMMUPT_HUGE : MOCK_IOMMUPT_DEFAULT,
  );
  testCmdSetDirtyTracking(self, hwptId, true);

  const run = (bitmap: number) =>
    testMockDirtyBitmaps(self, hwptId, variant.bufferSize, MOCK_APERTURE_START, self.pageSize, pageSize, bitmap, self.bitmapSize, flags);
  run(self.bitmap);
  // PAGE_SIZE unaligned bitmap
  run(self.bitmap + MOCK_PAGE_SIZE);
  // u64 unaligned bitmap
  run(self.bitmap + 0xff1);

  testIoctlDestroy(self, hwptId);
}

TEST_F('get_dirty_bitmap', (self, variant) => dirtyBitmaps(self, variant, 0), { timeout: 120_000 });

TEST_F('get_dirty_bitmap_no_clear', (self, variant) => dirtyBitmaps(self, variant, IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR), {
  timeout: 120_000,
});
