/**
 * FIXTURE(iommufd_ioas) of tools/testing/selftests/iommu/iommufd.c: an IOAS
 * with zero, one or two mock devices (sharing one automatic mock domain, as
 * the kernel shares it), or one with a 16 byte temporary memory limit.
 */
import { U64_MAX } from '@genpt/pt-core';
import { expect } from 'vitest';
import {
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MOCK_FLAGS_DEVICE_PASID,
  MOCK_PAGE_SIZE,
  MOCK_PASID_WIDTH,
  type IommufdCtx,
  type IommuIovaRange,
} from '../dist/index.js';
import {
  BUFFER_SIZE,
  HUGEPAGE_SIZE,
  PAGE_SIZE,
  RW,
  describeFixture,
  expectErrno,
  makeRand,
  openIommufd,
  teardownIommufd,
  testCmdCreateAccess,
  testCmdDestroyAccess,
  testCmdDestroyAccessPages,
  testCmdGetHwInfo,
  testCmdHwptAlloc,
  testCmdMockDomain,
  testErrDestroyAccessPages,
  testErrGetHwInfo,
  testErrMockDomain,
  testIoctlDestroy,
  testIoctlIoasAlloc,
  testIoctlIoasMapFixedId,
  testIoctlIoasMapId,
  testIoctlIoasUnmapId,
  testIoctlSetDefaultMemoryLimit,
  testIoctlSetTempMemoryLimit,
  type Proc,
  type SelfBase,
} from './harness.js';

interface Self extends SelfBase {
  ioasId: number;
  stdevId: number;
  hwptId: number;
  deviceId: number;
  baseIova: number;
  devicePasidId: number;
}

interface Variant {
  mockDomains: number;
  memoryLimit: number;
  pasidCapable: boolean;
}

const TEST_F = describeFixture<Variant, Self>(
  'iommufd_ioas',
  {
    no_domain: { mockDomains: 0, memoryLimit: 0, pasidCapable: false },
    mock_domain: { mockDomains: 1, memoryLimit: 0, pasidCapable: true },
    two_mock_domain: { mockDomains: 2, memoryLimit: 0, pasidCapable: false },
    mock_domain_limit: { mockDomains: 1, memoryLimit: 16, pasidCapable: false },
  },
  (proc: Proc, variant) => {
    const self = { proc, fd: openIommufd(proc), stdevId: 0, hwptId: 0, deviceId: 0, baseIova: 0, devicePasidId: 0 } as Self;
    self.ioasId = testIoctlIoasAlloc(self);
    if (!variant.memoryLimit) testIoctlSetDefaultMemoryLimit(self);
    else testIoctlSetTempMemoryLimit(self, variant.memoryLimit);
    for (let i = 0; i !== variant.mockDomains; i++) {
      const ids = testCmdMockDomain(self, self.ioasId);
      self.stdevId = ids.stdevId;
      self.hwptId = ids.hwptId;
      self.deviceId = ids.idevId;
      self.baseIova = MOCK_APERTURE_START;
    }
    if (variant.pasidCapable) self.devicePasidId = testCmdMockDomain(self, self.ioasId, MOCK_FLAGS_DEVICE_PASID).idevId;
    return self;
  },
  (self) => {
    testIoctlSetDefaultMemoryLimit(self);
    teardownIommufd(self);
  },
);

/* The fixture-local macros: they act on self->ioas_id. */
const map = (self: Self, buffer: number, length: number | bigint) => testIoctlIoasMapId(self, self.ioasId, buffer, length);
const mapFixed = (self: Self, buffer: number, length: number | bigint, iova: number | bigint) =>
  testIoctlIoasMapFixedId(self, self.ioasId, buffer, length, iova);
const unmap = (self: Self, iova: number | bigint, length: number | bigint) => testIoctlIoasUnmapId(self, self.ioasId, iova, length);
const errMap = (self: Self, code: Parameters<typeof expectErrno>[0], buffer: number, length: number) =>
  expectErrno(code, () => self.fd.ioasMap(self.ioasId, RW, buffer, length));
const errMapFixed = (self: Self, code: Parameters<typeof expectErrno>[0], buffer: number, length: number, iova: number | bigint) =>
  expectErrno(code, () => self.fd.ioasMap(self.ioasId, IOMMU_IOAS_MAP_FIXED_IOVA | RW, buffer, length, iova));
const errUnmap = (self: Self, code: Parameters<typeof expectErrno>[0], iova: number | bigint, length: number | bigint) =>
  expectErrno(code, () => self.fd.ioasUnmap(self.ioasId, iova, length));
const ffs = (v: number) => Math.log2(v & -v) + 1;

TEST_F('ioas_auto_destroy', () => {});

TEST_F('ioas_destroy', (self) => {
  if (self.stdevId) {
    // IOAS cannot be freed while a device has a HWPT using it
    expectErrno('EBUSY', () => self.fd.destroy(self.ioasId));
  } else {
    // Can allocate and manually free an IOAS table
    testIoctlDestroy(self, self.ioasId);
  }
});

TEST_F('hwpt_attach', (self) => {
  // Create a device attached directly to a hwpt
  if (self.stdevId) expect(testCmdMockDomain(self, self.hwptId).hwptId).toBe(self.hwptId);
  else testErrMockDomain(self, 'ENOENT', self.hwptId);
});

TEST_F('ioas_area_destroy', (self) => {
  // Adding an area does not change ability to destroy
  mapFixed(self, self.proc.buffer, PAGE_SIZE, self.baseIova);
  if (self.stdevId) expectErrno('EBUSY', () => self.fd.destroy(self.ioasId));
  else testIoctlDestroy(self, self.ioasId);
});

TEST_F('ioas_area_auto_destroy', (self) => {
  // Can allocate and automatically free an IOAS table with many areas
  for (let i = 0; i !== 10; i++) mapFixed(self, self.proc.buffer, PAGE_SIZE, self.baseIova + i * PAGE_SIZE);
});

TEST_F('get_hw_info', (self, variant) => {
  const bufferExact = new Uint8Array(8);
  const bufferLarger = new Uint8Array(16);
  if (self.deviceId) {
    // Provide a zero-size user_buffer
    testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, null, 0);
    // Provide a user_buffer with exact size
    testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, bufferExact, bufferExact.length);
    // Request for a wrong data_type, and a correct one
    testErrGetHwInfo(self, 'EOPNOTSUPP', self.deviceId, IOMMU_HW_INFO_TYPE_SELFTEST + 1, bufferExact, bufferExact.length);
    testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_SELFTEST, bufferExact, bufferExact.length);
    // A larger buffer has its trailing bytes zeroed
    bufferLarger.fill(0xa5);
    testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, bufferLarger, bufferLarger.length);
    // A smaller one still gets the fields that fit
    testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, bufferExact, 4);
    expect(testCmdGetHwInfo(self, self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, null, 0).maxPasid).toBe(0);
    if (variant.pasidCapable) {
      expect(testCmdGetHwInfo(self, self.devicePasidId, IOMMU_HW_INFO_TYPE_DEFAULT, null, 0).maxPasid).toBe(MOCK_PASID_WIDTH);
    }
  } else {
    testErrGetHwInfo(self, 'ENOENT', self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, bufferExact, bufferExact.length);
    testErrGetHwInfo(self, 'ENOENT', self.deviceId, IOMMU_HW_INFO_TYPE_DEFAULT, bufferLarger, bufferLarger.length);
  }
});

TEST_F('area', (self) => {
  const { buffer } = self.proc;
  // Unmap fails if nothing is mapped
  for (let i = 0; i !== 10; i++) errUnmap(self, 'ENOENT', i * PAGE_SIZE, PAGE_SIZE);
  // Unmap works
  for (let i = 0; i !== 10; i++) mapFixed(self, buffer, PAGE_SIZE, self.baseIova + i * PAGE_SIZE);
  for (let i = 0; i !== 10; i++) unmap(self, self.baseIova + i * PAGE_SIZE, PAGE_SIZE);
  // Split fails
  mapFixed(self, buffer, PAGE_SIZE * 2, self.baseIova + 16 * PAGE_SIZE);
  errUnmap(self, 'ENOENT', self.baseIova + 16 * PAGE_SIZE, PAGE_SIZE);
  errUnmap(self, 'ENOENT', self.baseIova + 17 * PAGE_SIZE, PAGE_SIZE);
  // Over map fails
  errMapFixed(self, 'EEXIST', buffer, PAGE_SIZE * 2, self.baseIova + 16 * PAGE_SIZE);
  errMapFixed(self, 'EEXIST', buffer, PAGE_SIZE, self.baseIova + 16 * PAGE_SIZE);
  errMapFixed(self, 'EEXIST', buffer, PAGE_SIZE, self.baseIova + 17 * PAGE_SIZE);
  errMapFixed(self, 'EEXIST', buffer, PAGE_SIZE * 2, self.baseIova + 15 * PAGE_SIZE);
  errMapFixed(self, 'EEXIST', buffer, PAGE_SIZE * 3, self.baseIova + 15 * PAGE_SIZE);
  // unmap all works
  unmap(self, 0, U64_MAX);
  // Unmap all succeeds on an empty IOAS
  unmap(self, 0, U64_MAX);
});

TEST_F('unmap_fully_contained_areas', (self) => {
  // Give no_domain some space to rewind base_iova
  self.baseIova += 4 * PAGE_SIZE;
  for (let i = 0; i !== 4; i++) mapFixed(self, self.proc.buffer, 8 * PAGE_SIZE, self.baseIova + i * 16 * PAGE_SIZE);
  // Unmap not fully contained area doesn't work
  errUnmap(self, 'ENOENT', self.baseIova - 4 * PAGE_SIZE, 8 * PAGE_SIZE);
  errUnmap(self, 'ENOENT', self.baseIova + 3 * 16 * PAGE_SIZE + 8 * PAGE_SIZE - 4 * PAGE_SIZE, 8 * PAGE_SIZE);
  // Unmap fully contained areas works
  const unmapLen = unmap(self, self.baseIova - 4 * PAGE_SIZE, 3 * 16 * PAGE_SIZE + 8 * PAGE_SIZE + 4 * PAGE_SIZE);
  expect(unmapLen).toBe(BigInt(32 * PAGE_SIZE));
});

TEST_F('area_auto_iova', (self) => {
  const { buffer } = self.proc;
  const reserved = { start: PAGE_SIZE * 4, length: PAGE_SIZE * 100 };
  const iovas: bigint[] = [];

  // Simple 4k pages
  for (let i = 0; i !== 10; i++) iovas[i] = map(self, buffer, PAGE_SIZE);
  for (let i = 0; i !== 10; i++) unmap(self, iovas[i]!, PAGE_SIZE);

  // Kernel automatically aligns IOVAs properly
  for (let i = 0; i !== 10; i++) {
    const length = PAGE_SIZE * (i + 1);
    iovas[i] = self.stdevId ? map(self, buffer, length) : map(self, 2 ** 31, length);
    expect(iovas[i]! % BigInt(2 ** (ffs(length) - 1))).toBe(0n);
  }
  for (let i = 0; i !== 10; i++) unmap(self, iovas[i]!, PAGE_SIZE * (i + 1));

  // Avoids a reserved region
  self.fd.testAddReserved(self.ioasId, reserved.start, reserved.length);
  for (let i = 0; i !== 10; i++) {
    const length = PAGE_SIZE * (i + 1);
    iovas[i] = map(self, buffer, length);
    expect(iovas[i]! % BigInt(2 ** (ffs(length) - 1))).toBe(0n);
    expect(iovas[i]! > BigInt(reserved.start) && iovas[i]! < BigInt(reserved.start + reserved.length)).toBe(false);
  }
  for (let i = 0; i !== 10; i++) unmap(self, iovas[i]!, PAGE_SIZE * (i + 1));

  // Allowed region intersects with a reserved region
  const ranges = [{ start: PAGE_SIZE, last: PAGE_SIZE * 600 }];
  expectErrno('EADDRINUSE', () => self.fd.ioasAllowIovas(self.ioasId, ranges));

  // Allocate from an allowed region
  if (self.stdevId) ranges[0] = { start: MOCK_APERTURE_START + PAGE_SIZE, last: MOCK_APERTURE_START + PAGE_SIZE * 600 - 1 };
  else ranges[0] = { start: PAGE_SIZE * 200, last: PAGE_SIZE * 600 - 1 };
  self.fd.ioasAllowIovas(self.ioasId, ranges);
  for (let i = 0; i !== 10; i++) {
    const length = PAGE_SIZE * (i + 1);
    iovas[i] = map(self, buffer, length);
    const iova = iovas[i]!;
    expect(iova % BigInt(2 ** (ffs(length) - 1))).toBe(0n);
    expect(iova >= BigInt(ranges[0]!.start)).toBe(true);
    expect(iova <= BigInt(ranges[0]!.last)).toBe(true);
    expect(iova + BigInt(length) > BigInt(ranges[0]!.start)).toBe(true);
    expect(iova + BigInt(length) <= BigInt(ranges[0]!.last + 1)).toBe(true);
  }
  for (let i = 0; i !== 10; i++) unmap(self, iovas[i]!, PAGE_SIZE * (i + 1));
});

TEST_F('reserved_overflow', (self) => {
  // https://lore.kernel.org/r/685af644.a00a0220.2e5631.0094.GAE@google.com (PAGE_SIZE 4096)
  self.fd.testAddReserved(self.ioasId, 6, 0xffffffffffff8001n);
  errMap(self, 'ENOSPC', self.proc.buffer, 0x5000);
});

TEST_F('area_allowed', (self) => {
  const ranges = [{ start: self.baseIova, last: self.baseIova + PAGE_SIZE * 600 }];
  // Reserved intersects an allowed
  self.fd.ioasAllowIovas(self.ioasId, ranges);
  const reserved = { start: ranges[0]!.start + PAGE_SIZE, length: PAGE_SIZE };
  expectErrno('EADDRINUSE', () => self.fd.testAddReserved(self.ioasId, reserved.start, reserved.length));
  self.fd.ioasAllowIovas(self.ioasId, []);

  // Allowed intersects a reserved
  self.fd.testAddReserved(self.ioasId, reserved.start, reserved.length);
  expectErrno('EADDRINUSE', () => self.fd.ioasAllowIovas(self.ioasId, ranges));
});

TEST_F('copy_area', (self) => {
  const flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE;
  mapFixed(self, self.proc.buffer, PAGE_SIZE, self.baseIova);
  // Copy inside a single IOAS
  self.fd.ioasCopy({
    flags,
    dstIoasId: self.ioasId,
    srcIoasId: self.ioasId,
    length: PAGE_SIZE,
    srcIova: self.baseIova,
    dstIova: self.baseIova + PAGE_SIZE,
  });
  // Copy between IOAS's
  const dstIoasId = testIoctlIoasAlloc(self);
  self.fd.ioasCopy({ flags, dstIoasId, srcIoasId: self.ioasId, length: PAGE_SIZE, srcIova: self.baseIova, dstIova: 0 });
});

TEST_F('iova_ranges', (self) => {
  const SIZE_MAX = U64_MAX;
  const room = BUFFER_SIZE / 16;
  let ranges: IommuIovaRange[] = [];
  const cmd = { numIovas: room, ranges };

  // Range can be read
  self.fd.ioasIovaRanges(self.ioasId, cmd);
  expect(cmd.numIovas).toBe(1);
  if (!self.stdevId) {
    expect(ranges[0]).toEqual({ start: 0n, last: SIZE_MAX });
    expect((cmd as { outIovaAlignment?: bigint }).outIovaAlignment).toBe(1n);
  } else {
    expect(ranges[0]).toEqual({ start: BigInt(MOCK_APERTURE_START), last: BigInt(MOCK_APERTURE_LAST) });
    expect((cmd as { outIovaAlignment?: bigint }).outIovaAlignment).toBe(BigInt(MOCK_PAGE_SIZE));
  }

  // Buffer too small
  ranges = [];
  const small = { numIovas: 0, ranges };
  expectErrno('EMSGSIZE', () => self.fd.ioasIovaRanges(self.ioasId, small));
  expect(small.numIovas).toBe(1);
  expect(ranges[0]).toBeUndefined();

  // 2 ranges
  self.fd.testAddReserved(self.ioasId, PAGE_SIZE, PAGE_SIZE);
  ranges = [];
  const two = { numIovas: room, ranges };
  self.fd.ioasIovaRanges(self.ioasId, two);
  if (!self.stdevId) {
    expect(two.numIovas).toBe(2);
    expect(ranges[0]).toEqual({ start: 0n, last: BigInt(PAGE_SIZE - 1) });
    expect(ranges[1]).toEqual({ start: BigInt(PAGE_SIZE * 2), last: SIZE_MAX });
  } else {
    expect(two.numIovas).toBe(1);
    expect(ranges[0]).toEqual({ start: BigInt(MOCK_APERTURE_START), last: BigInt(MOCK_APERTURE_LAST) });
  }

  // Buffer too small
  ranges = [];
  const one = { numIovas: 1, ranges };
  if (!self.stdevId) {
    expectErrno('EMSGSIZE', () => self.fd.ioasIovaRanges(self.ioasId, one));
    expect(one.numIovas).toBe(2);
    expect(ranges[0]).toEqual({ start: 0n, last: BigInt(PAGE_SIZE - 1) });
  } else {
    self.fd.ioasIovaRanges(self.ioasId, one);
    expect(one.numIovas).toBe(1);
    expect(ranges[0]).toEqual({ start: BigInt(MOCK_APERTURE_START), last: BigInt(MOCK_APERTURE_LAST) });
  }
  expect(ranges[1]).toBeUndefined();
});

TEST_F('access_domain_destory', (self) => {
  const bufSize = 2 * HUGEPAGE_SIZE;
  const mm = self.proc.mm;
  const buf = mm.mmap(bufSize, { hugetlb: true, populate: true });
  mapFixed(self, buf, bufSize, self.baseIova);

  const accessId = testCmdCreateAccess(self, self.ioasId, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
  const accessPagesId = self.fd.testAccessPages(accessId, self.baseIova + PAGE_SIZE, PAGE_SIZE, buf + PAGE_SIZE);

  // Causes a complicated unpin across a huge page boundary
  if (self.stdevId) testIoctlDestroy(self, self.stdevId);

  testCmdDestroyAccessPages(self, accessId, accessPagesId);
  testCmdDestroyAccess(self, accessId);
  mm.munmap(buf, bufSize);
});

TEST_F('access_pin', (self) => {
  const { buffer } = self.proc;
  const accessId = testCmdCreateAccess(self, self.ioasId, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
  const pin = (length: number) => self.fd.testAccessPages(accessId, MOCK_APERTURE_START, length, buffer);

  for (let npages = 1; npages < BUFFER_SIZE / PAGE_SIZE; npages++) {
    const length = npages * PAGE_SIZE;

    // Single map/unmap
    mapFixed(self, buffer, BUFFER_SIZE, MOCK_APERTURE_START);
    testCmdDestroyAccessPages(self, accessId, pin(length));

    // Double user
    const accessPagesId = pin(length);
    testCmdDestroyAccessPages(self, accessId, pin(length));
    testCmdDestroyAccessPages(self, accessId, accessPagesId);

    // Add/remove a domain with a user
    const id = pin(length);
    const mock = testCmdMockDomain(self, self.ioasId);
    self.fd.testMdCheckMap(mock.hwptId, MOCK_APERTURE_START, BUFFER_SIZE, buffer);

    testIoctlDestroy(self, mock.stdevId);
    testCmdDestroyAccessPages(self, accessId, id);

    unmap(self, MOCK_APERTURE_START, BUFFER_SIZE);
  }
  testCmdDestroyAccess(self, accessId);
});

TEST_F('access_pin_unmap', (self) => {
  const accessId = testCmdCreateAccess(self, self.ioasId, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
  mapFixed(self, self.proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
  const accessPagesId = self.fd.testAccessPages(accessId, MOCK_APERTURE_START, BUFFER_SIZE, self.proc.buffer);

  // Trigger the unmap op
  unmap(self, MOCK_APERTURE_START, BUFFER_SIZE);

  // kernel removed the item for us
  testErrDestroyAccessPages(self, 'ENOENT', accessId, accessPagesId);
});

/**
 * check_access_rw(): random data in the shared buffer, read and written
 * through the access at every offset around a page boundary, then all of
 * it in one go.
 */
function checkAccessRw(fd: IommufdCtx, self: Self, accessId: number, iova: bigint | number, defFlags: number): void {
  const mm = self.proc.mm;
  const { buffer } = self.proc;
  const rand = makeRand(Number(BigInt(iova) & 0xffffn) + defFlags);
  const base = BigInt(iova);
  const tmp = mm.mmap(PAGE_SIZE); // uint16_t tmp[32] on the stack
  const tmpLen = 64;

  const data = new Uint8Array(BUFFER_SIZE);
  for (let i = 0; i < BUFFER_SIZE; i += 2) {
    const v = rand() & 0xffff;
    data[i] = v & 0xff;
    data[i + 1] = v >> 8;
  }
  mm.write(buffer, data);

  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);
  for (let at = base + BigInt(PAGE_SIZE - 50); at < base + BigInt(PAGE_SIZE + 50); at++) {
    for (let length = 1; length < tmpLen; length++) {
      fd.testAccessRw(accessId, at, length, tmp, defFlags);
      if (!same(mm.read(buffer + Number(at - base), length), mm.read(tmp, length))) expect.fail(`read at 0x${at.toString(16)}+${length}`);

      const fresh = new Uint8Array(tmpLen);
      for (let i = 0; i < tmpLen; i += 2) {
        const v = rand() & 0xffff;
        fresh[i] = v & 0xff;
        fresh[i + 1] = v >> 8;
      }
      mm.write(tmp, fresh);
      fd.testAccessRw(accessId, at, length, tmp, defFlags | MOCK_ACCESS_RW_WRITE);
      if (!same(mm.read(buffer + Number(at - base), length), mm.read(tmp, length))) expect.fail(`write at 0x${at.toString(16)}+${length}`);
    }
  }

  // Multi-page test
  const tmp2 = mm.mmap(BUFFER_SIZE);
  fd.testAccessRw(accessId, base, BUFFER_SIZE, tmp2, defFlags);
  expect(same(mm.read(buffer, BUFFER_SIZE), mm.read(tmp2, BUFFER_SIZE))).toBe(true);
  mm.munmap(tmp2, BUFFER_SIZE);
  mm.munmap(tmp, PAGE_SIZE);
}

TEST_F(
  'access_rw',
  (self) => {
    const accessId = testCmdCreateAccess(self, self.ioasId, 0);
    const iova = map(self, self.proc.buffer, BUFFER_SIZE);
    checkAccessRw(self.fd, self, accessId, iova, 0);
    checkAccessRw(self.fd, self, accessId, iova, MOCK_ACCESS_RW_SLOW_PATH);
    unmap(self, iova, BUFFER_SIZE);
    testCmdDestroyAccess(self, accessId);
  },
  { timeout: 60_000 },
);

TEST_F('access_rw_unaligned', (self) => {
  const accessId = testCmdCreateAccess(self, self.ioasId, 0);
  // Unaligned pages
  const iova = self.baseIova + MOCK_PAGE_SIZE;
  mapFixed(self, self.proc.buffer, BUFFER_SIZE, iova);
  checkAccessRw(self.fd, self, accessId, iova, 0);
  unmap(self, iova, BUFFER_SIZE);
  testCmdDestroyAccess(self, accessId);
});

TEST_F('fork_gone', (self) => {
  const accessId = testCmdCreateAccess(self, self.ioasId, 0);

  // Create a mapping with a different mm
  const parent = self.fd.current;
  const child = parent.fork();
  self.fd.current = child;
  mapFixed(self, self.proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
  self.fd.current = parent;
  child.exit();

  if (self.stdevId) {
    // If a domain already existed then everything was pinned within the
    // fork, so this copies from one domain to another.
    testCmdMockDomain(self, self.ioasId);
    checkAccessRw(self.fd, self, accessId, MOCK_APERTURE_START, 0);
  } else {
    // Otherwise we need to actually pin pages which can't happen since the fork is gone.
    testErrMockDomain(self, 'EFAULT', self.ioasId);
  }
  testCmdDestroyAccess(self, accessId);
});

TEST_F('fork_present', (self) => {
  const accessId = testCmdCreateAccess(self, self.ioasId, 0);

  // Create a mapping with a different mm; the child stays alive
  const parent = self.fd.current;
  const child = parent.fork();
  self.fd.current = child;
  mapFixed(self, self.proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
  self.fd.current = parent;

  // Read pages from the remote process
  testCmdMockDomain(self, self.ioasId);
  checkAccessRw(self.fd, self, accessId, MOCK_APERTURE_START, 0);

  child.exit();
  testCmdDestroyAccess(self, accessId);
});

TEST_F('ioas_option_huge_pages', (self) => {
  const cmd = { optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, val64: 3, objectId: self.ioasId };
  expect(self.fd.option(cmd)).toBe(1n);

  self.fd.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 0 });
  expect(self.fd.option({ ...cmd, op: IOMMU_OPTION_OP_GET, val64: 3 })).toBe(0n);

  expectErrno('EINVAL', () => self.fd.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 2 }));
  self.fd.option({ ...cmd, op: IOMMU_OPTION_OP_SET, val64: 1 });
});

TEST_F('ioas_iova_alloc', (self, variant) => {
  for (let length = 1; length !== PAGE_SIZE * 2; length++) {
    if (variant.mockDomains && length % MOCK_PAGE_SIZE) {
      errMap(self, 'EINVAL', self.proc.buffer, length);
    } else {
      const iova = map(self, self.proc.buffer, length);
      unmap(self, iova, length);
    }
  }
});

TEST_F('ioas_align_change', (self, variant) => {
  // 0 means everything must be aligned to PAGE_SIZE
  const cmd = { optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_SET, objectId: self.ioasId, val64: 0 };
  const { buffer } = self.proc;

  // We cannot upgrade the alignment using OPTION_HUGE_PAGES when a domain and map are present.
  if (variant.mockDomains) return;

  // We can upgrade to PAGE_SIZE alignment when things are aligned right
  mapFixed(self, buffer, PAGE_SIZE, MOCK_APERTURE_START);
  self.fd.option(cmd);

  // Misalignment is rejected at map time
  errMapFixed(self, 'EINVAL', buffer + MOCK_PAGE_SIZE, PAGE_SIZE, MOCK_APERTURE_START + PAGE_SIZE);
  self.fd.option(cmd);

  // Reduce alignment
  self.fd.option({ ...cmd, val64: 1 });

  // Confirm misalignment is rejected during alignment upgrade
  mapFixed(self, buffer + MOCK_PAGE_SIZE, PAGE_SIZE, MOCK_APERTURE_START + PAGE_SIZE);
  expectErrno('EADDRINUSE', () => self.fd.option({ ...cmd, val64: 0 }));

  unmap(self, MOCK_APERTURE_START + PAGE_SIZE, PAGE_SIZE);
  unmap(self, MOCK_APERTURE_START, PAGE_SIZE);
});

TEST_F('copy_sweep', (self, variant) => {
  const flags = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE;
  const dstIoasId = testIoctlIoasAlloc(self);
  const lastIova = variant.mockDomains ? MOCK_APERTURE_START + BUFFER_SIZE - 1 : MOCK_APERTURE_START + BUFFER_SIZE - 2;

  mapFixed(self, self.proc.buffer, lastIova - MOCK_APERTURE_START + 1, MOCK_APERTURE_START);

  for (let iova = MOCK_APERTURE_START - PAGE_SIZE; iova <= lastIova; iova += 511) {
    const copy = () =>
      self.fd.ioasCopy({ flags, srcIoasId: self.ioasId, dstIoasId, dstIova: MOCK_APERTURE_START, length: MOCK_PAGE_SIZE, srcIova: iova });
    if (iova < MOCK_APERTURE_START || iova + MOCK_PAGE_SIZE - 1 > lastIova) {
      expectErrno('ENOENT', copy);
    } else {
      copy();
      testIoctlIoasUnmapId(self, dstIoasId, MOCK_APERTURE_START, MOCK_PAGE_SIZE);
    }
  }
  testIoctlDestroy(self, dstIoasId);
});

TEST_F('dmabuf_simple', (self) => {
  const bufSize = PAGE_SIZE * 4;
  const dfd = self.fd.testDmabufGet(bufSize);
  const mapFile = (start: number, length: number) => self.fd.ioasMapFile(self.ioasId, RW, dfd, start, length);
  expectErrno('EINVAL', () => mapFile(0, 0));
  expectErrno('EINVAL', () => mapFile(bufSize, bufSize));
  expectErrno('EINVAL', () => mapFile(0, bufSize + 1));
  mapFile(0, bufSize);
});

TEST_F('dmabuf_revoke', (self, variant) => {
  const bufSize = PAGE_SIZE * 4;
  const dfd = self.fd.testDmabufGet(bufSize);
  const mapFile = () => self.fd.ioasMapFile(self.ioasId, RW, dfd, 0, bufSize);
  const iova = mapFile();
  self.fd.testDmabufRevoke(dfd, true);

  if (variant.mockDomains) testCmdHwptAlloc(self, self.deviceId, self.ioasId, 0);

  expectErrno('ENODEV', mapFile);

  self.fd.testDmabufRevoke(dfd, false);
  mapFile();

  // Restore the iova back
  unmap(self, iova, bufSize);
  self.fd.ioasMapFile(self.ioasId, IOMMU_IOAS_MAP_FIXED_IOVA | RW, dfd, 0, bufSize, iova);
});
