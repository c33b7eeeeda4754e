/**
 * FIXTURE(iommufd_mock_domain): an IOAS with one or two mock devices, mapping
 * anonymous memory, hugetlb memory or a memfd, and checking with MD_CHECK_MAP
 * that the mock page table translates every IOVA to the user's page.
 */
import { expect } from 'vitest';
import {
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_IOAS_MAP_READABLE,
  MOCK_APERTURE_START,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MOCK_PAGE_SIZE,
  MemFile,
  type MemFile as MemFileT,
} from '../dist/index.js';
import {
  BUFFER_SIZE,
  HUGEPAGE_SIZE,
  PAGE_SIZE,
  RW,
  checkRefs,
  describeFixture,
  expectErrno,
  openIommufd,
  teardownIommufd,
  testCmdAccessReplaceIoas,
  testCmdCreateAccess,
  testCmdDestroyAccess,
  testCmdDestroyAccessPages,
  testCmdHwptAlloc,
  testCmdMockDomain,
  testCmdMockDomainReplace,
  testErrHwptAlloc,
  testErrMockDomainReplace,
  testIoctlDestroy,
  testIoctlIoasAlloc,
  testIoctlIoasMapId,
  testIoctlIoasMapIdFile,
  testIoctlIoasUnmapId,
  type Proc,
  type SelfBase,
} from './harness.js';

interface Self extends SelfBase {
  ioasId: number;
  hwptId: number;
  hwptIds: [number, number];
  stdevIds: [number, number];
  idevIds: [number, number];
  mmapHugetlb: boolean;
  mmapBufSize: number;
}

interface Variant {
  mockDomains: number;
  hugepages: boolean;
  file: boolean;
}

const TEST_F = describeFixture<Variant, Self>(
  'iommufd_mock_domain',
  {
    one_domain: { mockDomains: 1, hugepages: false, file: false },
    two_domains: { mockDomains: 2, hugepages: false, file: false },
    one_domain_hugepage: { mockDomains: 1, hugepages: true, file: false },
    two_domains_hugepage: { mockDomains: 2, hugepages: true, file: false },
    one_domain_file: { mockDomains: 1, hugepages: false, file: true },
    one_domain_file_hugepage: { mockDomains: 1, hugepages: true, file: true },
  },
  (proc: Proc, variant) => {
    const self = { proc, fd: openIommufd(proc), hwptIds: [0, 0], stdevIds: [0, 0], idevIds: [0, 0] } as Self;
    self.ioasId = testIoctlIoasAlloc(self);
    for (let i = 0; i !== variant.mockDomains; i++) {
      const ids = testCmdMockDomain(self, self.ioasId);
      self.stdevIds[i] = ids.stdevId;
      self.hwptIds[i] = ids.hwptId;
      self.idevIds[i] = ids.idevId;
    }
    self.hwptId = self.hwptIds[0];
    self.mmapHugetlb = variant.hugepages;
    self.mmapBufSize = variant.hugepages ? HUGEPAGE_SIZE * 2 : PAGE_SIZE * 8;
    return self;
  },
  (self) => teardownIommufd(self),
);

const map = (self: Self, buffer: number, length: number) => testIoctlIoasMapId(self, self.ioasId, buffer, length);
const unmap = (self: Self, iova: bigint | number, length: number) => testIoctlIoasUnmapId(self, self.ioasId, iova, length);
const mapFile = (self: Self, mfd: MemFileT, start: number, length: number) => testIoctlIoasMapIdFile(self, self.ioasId, mfd, start, length);
const mmapBuf = (self: Self, size: number) => self.proc.mm.mmap(size, { hugetlb: self.mmapHugetlb, populate: self.mmapHugetlb });
/** memfd_mmap(): a new memfd of that size, mapped shared. */
const memfdMmap = (self: Self, size: number) => {
  const mfd = new MemFile(self.proc.phys, size);
  return { buf: self.proc.mm.mmap(size, { file: mfd }), mfd };
};

/** check_mock_iova(): the kernel checks the user pages made it to every mock domain. */
function checkMockIova(self: Self, ptr: number, iova: bigint | number, length: number): void {
  self.fd.testMdCheckMap(self.hwptId, iova, length, ptr);
  if (self.hwptIds[1]) self.fd.testMdCheckMap(self.hwptIds[1], iova, length, ptr);
}

function testBasicMmap(self: Self): void {
  const bufSize = self.mmapBufSize;
  const mm = self.proc.mm;

  // Simple one page map
  const iova = map(self, self.proc.buffer, PAGE_SIZE);
  checkMockIova(self, self.proc.buffer, iova, PAGE_SIZE);

  const buf = mmapBuf(self, bufSize);
  // EFAULT half way through mapping
  mm.munmap(buf + bufSize / 2, bufSize / 2);
  expectErrno('EFAULT', () => self.fd.ioasMap(self.ioasId, RW, buf, bufSize));
  // EFAULT on first page
  mm.munmap(buf, bufSize / 2);
  expectErrno('EFAULT', () => self.fd.ioasMap(self.ioasId, RW, buf, bufSize));
}

function testBasicFile(self: Self): void {
  const bufSize = self.mmapBufSize;

  // Simple one page map
  const iova = mapFile(self, self.proc.mfd, 0, PAGE_SIZE);
  checkMockIova(self, self.proc.mfdBuffer, iova, PAGE_SIZE);

  const { mfd: mfdTmp } = memfdMmap(self, bufSize);
  expectErrno('EINVAL', () => self.fd.ioasMapFile(self.ioasId, RW, mfdTmp, 0, bufSize + 1));
  mfdTmp.truncate(0);
  expectErrno('EINVAL', () => self.fd.ioasMapFile(self.ioasId, RW, mfdTmp, 0, bufSize));
}

TEST_F('basic', (self, variant) => {
  if (variant.file) testBasicFile(self);
  else testBasicMmap(self);
});

TEST_F('ro_unshare', (self) => {
  // A MAP_PRIVATE, writable mapping of a file (/proc/self/exe)
  const exe = new MemFile(self.proc.phys, PAGE_SIZE);
  self.proc.mm.write(self.proc.mm.mmap(PAGE_SIZE, { file: exe }), new Uint8Array(PAGE_SIZE).fill(0x7f));
  const buf = self.proc.mm.mmap(PAGE_SIZE, { file: exe, shared: false });

  // The write to the page after we map it for reading should not change the assigned PFN.
  const iova = self.fd.ioasMap(self.ioasId, IOMMU_IOAS_MAP_READABLE, buf, PAGE_SIZE);
  checkMockIova(self, buf, iova, PAGE_SIZE);
  self.proc.mm.fill(buf, PAGE_SIZE, 1);
  checkMockIova(self, buf, iova, PAGE_SIZE);
  self.proc.mm.munmap(buf, PAGE_SIZE);
});

function allAligns(self: Self, variant: Variant, copy: boolean): void {
  const testStep = variant.hugepages ? self.mmapBufSize / 16 : MOCK_PAGE_SIZE;
  const bufSize = self.mmapBufSize;
  let buf: number;
  let mfd: MemFileT | undefined;
  if (variant.file) ({ buf, mfd } = memfdMmap(self, bufSize));
  else buf = mmapBuf(self, bufSize);
  checkRefs(self, buf, bufSize, 0);

  // Map every combination of page size and alignment within a big region,
  // less for hugepage case as it takes so long to finish.
  for (let start = 0; start < bufSize; start += testStep) {
    let end = variant.hugepages ? bufSize : start + MOCK_PAGE_SIZE;
    for (; end < bufSize; end += MOCK_PAGE_SIZE) {
      const length = end - start;
      const iova = variant.file ? mapFile(self, mfd!, start, length) : map(self, buf + start, length);

      let mockStdevId = 0;
      let oldId = 0;
      if (copy) {
        // Add and destroy a domain while the area exists
        oldId = self.hwptIds[1];
        const ids = testCmdMockDomain(self, self.ioasId);
        mockStdevId = ids.stdevId;
        self.hwptIds[1] = ids.hwptId;
      }

      checkMockIova(self, buf + start, iova, length);
      const first = Math.floor(start / PAGE_SIZE) * PAGE_SIZE;
      checkRefs(self, buf + first, Math.floor(end / PAGE_SIZE) * PAGE_SIZE - first, 1);

      if (copy) {
        testIoctlDestroy(self, mockStdevId);
        self.hwptIds[1] = oldId;
      }
      unmap(self, iova, length);
    }
  }
  checkRefs(self, buf, bufSize, 0);
  self.proc.mm.munmap(buf, bufSize);
}

TEST_F('all_aligns', (self, variant) => allAligns(self, variant, false));

TEST_F('all_aligns_copy', (self, variant) => allAligns(self, variant, true));

TEST_F('user_copy', (self, variant) => {
  const buf = variant.file ? self.proc.mfdBuffer : self.proc.buffer;
  const copyFlags = 1 /* FIXED_IOVA */ | 2; /* WRITEABLE */
  const mapSrc = (ioasId: number) =>
    variant.file ? testIoctlIoasMapIdFile(self, ioasId, self.proc.mfd, 0, BUFFER_SIZE) : testIoctlIoasMapId(self, ioasId, buf, BUFFER_SIZE);

  // Pin the pages in an IOAS with no domains then copy to an IOAS with domains
  const ioasId = testIoctlIoasAlloc(self);
  let srcIova = mapSrc(ioasId);
  const accessId = testCmdCreateAccess(self, ioasId, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
  self.fd.testAccessPages(accessId, srcIova, BUFFER_SIZE, buf);
  self.fd.ioasCopy({
    flags: copyFlags,
    srcIoasId: ioasId,
    dstIoasId: self.ioasId,
    dstIova: MOCK_APERTURE_START,
    length: BUFFER_SIZE,
    srcIova,
  });
  checkMockIova(self, buf, MOCK_APERTURE_START, BUFFER_SIZE);

  // Now replace the ioas with a new one
  const newIoasId = testIoctlIoasAlloc(self);
  srcIova = mapSrc(newIoasId);
  testCmdAccessReplaceIoas(self, accessId, newIoasId);

  // Destroy the old ioas and cleanup copied mapping
  unmap(self, MOCK_APERTURE_START, BUFFER_SIZE);
  testIoctlDestroy(self, ioasId);

  // Then run the same test again with the new ioas
  const accessPagesId = self.fd.testAccessPages(accessId, srcIova, BUFFER_SIZE, buf);
  self.fd.ioasCopy({
    flags: copyFlags,
    srcIoasId: newIoasId,
    dstIoasId: self.ioasId,
    dstIova: MOCK_APERTURE_START,
    length: BUFFER_SIZE,
    srcIova,
  });
  checkMockIova(self, buf, MOCK_APERTURE_START, BUFFER_SIZE);

  testCmdDestroyAccessPages(self, accessId, accessPagesId);
  testCmdDestroyAccess(self, accessId);
  testIoctlDestroy(self, newIoasId);
});

TEST_F('replace', (self, variant) => {
  const ioasId = testIoctlIoasAlloc(self);
  testCmdMockDomainReplace(self, self.stdevIds[0], ioasId);

  // Replacing the IOAS causes the prior HWPT to be deallocated, thus we
  // should get enoent when we try to use it.
  if (variant.mockDomains === 1) testErrMockDomainReplace(self, 'ENOENT', self.stdevIds[0], self.hwptIds[0]);

  testCmdMockDomainReplace(self, self.stdevIds[0], ioasId);
  if (variant.mockDomains >= 2) {
    testCmdMockDomainReplace(self, self.stdevIds[0], self.hwptIds[1]);
    testCmdMockDomainReplace(self, self.stdevIds[0], self.hwptIds[1]);
    testCmdMockDomainReplace(self, self.stdevIds[0], self.hwptIds[0]);
  }

  testCmdMockDomainReplace(self, self.stdevIds[0], self.ioasId);
  testIoctlDestroy(self, ioasId);
});

TEST_F('alloc_hwpt', (self, variant) => {
  for (let i = 0; i !== variant.mockDomains; i++) {
    testErrHwptAlloc(self, 'EOPNOTSUPP', self.idevIds[i], self.ioasId, ~IOMMU_HWPT_ALLOC_NEST_PARENT >>> 0);
    const hwpt0 = testCmdHwptAlloc(self, self.idevIds[i], self.ioasId, 0);
    const hwpt1 = testCmdHwptAlloc(self, self.idevIds[i], self.ioasId, IOMMU_HWPT_ALLOC_NEST_PARENT);

    // Do a hw_pagetable rotation test
    testCmdMockDomainReplace(self, self.stdevIds[i], hwpt0);
    expectErrno('EBUSY', () => self.fd.destroy(hwpt0));
    testCmdMockDomainReplace(self, self.stdevIds[i], hwpt1);
    expectErrno('EBUSY', () => self.fd.destroy(hwpt1));
    testCmdMockDomainReplace(self, self.stdevIds[i], self.ioasId);
    testIoctlDestroy(self, hwpt1);

    const stddevId = testCmdMockDomain(self, hwpt0).stdevId;
    testIoctlDestroy(self, stddevId);
    testIoctlDestroy(self, hwpt0);
  }
  expect(self.fd.objects.list().filter((o) => o.type === 'hwpt_paging')).toHaveLength(1);
});
