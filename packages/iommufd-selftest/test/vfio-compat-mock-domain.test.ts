/**
 * FIXTURE(vfio_compat_mock_domain): the VFIO type1 container ioctls on an
 * IOAS with a mock device, in type1v2 and type1 (large pages off, unmap may
 * cut mappings) modes.
 */
import { expect } from 'vitest';
import {
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_VFIO_IOAS_SET,
  MOCK_APERTURE_LAST,
  MOCK_APERTURE_START,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../dist/index.js';
import {
  BUFFER_SIZE,
  HUGEPAGE_SIZE,
  PAGE_SIZE,
  describeFixture,
  expectErrno,
  makeRand,
  openIommufd,
  teardownIommufd,
  testCmdMockDomain,
  testIoctlIoasAlloc,
  type Proc,
  type SelfBase,
} from './harness.js';

interface Self extends SelfBase {
  ioasId: number;
}

interface Variant {
  version: number;
}

const TEST_F = describeFixture<Variant, Self>(
  'vfio_compat_mock_domain',
  { Ver1v2: { version: VFIO_TYPE1v2_IOMMU }, Ver1v0: { version: VFIO_TYPE1_IOMMU } },
  (proc: Proc, variant) => {
    const self = { proc, fd: openIommufd(proc) } as Self;
    // Create what VFIO would consider a group
    self.ioasId = testIoctlIoasAlloc(self);
    testCmdMockDomain(self, self.ioasId);
    // Attach it to the vfio compat
    self.fd.vfioIoasOp(IOMMU_VFIO_IOAS_SET, self.ioasId);
    self.fd.vfioSetIommu(variant.version);
    return self;
  },
  (self) => teardownIommufd(self),
);

TEST_F('simple_close', () => {});

TEST_F('option_huge_pages', (self, variant) => {
  const val = self.fd.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, val64: 3, objectId: self.ioasId });
  expect(val).toBe(variant.version === VFIO_TYPE1_IOMMU ? 0n : 1n);
});

/**
 * ioctl_check_buf(): run VFIO_IOMMU_GET_INFO on the test buffer whose first
 * u32 is argsz; every byte past argsz must still hold the 0xAA fill.
 */
function ioctlCheckBuf(self: Self, buf: Uint8Array): void {
  const len = new DataView(buf.buffer).getUint32(0, true);
  buf.fill(0xaa, len);
  self.fd.vfioGetInfo(buf);
  expect(buf.subarray(len).every((b) => b === 0xaa)).toBe(true);
}

/** check_vfio_info_cap_chain(): walk the chain; only known caps, well formed. */
function checkVfioInfoCapChain(buf: Uint8Array): void {
  const v = new DataView(buf.buffer);
  const argsz = v.getUint32(0, true);
  let cap = v.getUint32(16, true);
  expect(argsz).toBeGreaterThanOrEqual(cap + 8);
  for (;;) {
    const next = v.getUint32(cap + 4, true);
    const capSize = (next || argsz) - cap;
    const id = v.getUint16(cap, true);
    expect(v.getUint16(cap + 2, true)).toBe(1);
    if (id === VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE) {
      expect(v.getUint32(cap + 8, true)).toBe(1);
      expect(v.getBigUint64(cap + 16, true)).toBe(BigInt(MOCK_APERTURE_START));
      expect(v.getBigUint64(cap + 24, true)).toBe(BigInt(MOCK_APERTURE_LAST));
    } else if (id === VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL) {
      expect(capSize).toBeGreaterThanOrEqual(12);
    } else {
      expect.fail(`unknown cap ${id}`);
    }
    if (!next) break;
    expect(argsz).toBeGreaterThanOrEqual(next + 8);
    expect(next).toBeGreaterThanOrEqual(cap);
    cap = next;
  }
}

TEST_F('get_info', (self) => {
  const buf = new Uint8Array(BUFFER_SIZE);
  const v = new DataView(buf.buffer);
  const setArgsz = (n: number) => {
    buf.fill(0, 0, 24);
    v.setUint32(0, n, true);
  };
  const flags = () => v.getUint32(4, true);

  // Pre-cap ABI
  setArgsz(16);
  ioctlCheckBuf(self, buf);
  expect(v.getBigUint64(8, true)).not.toBe(0n);
  expect(flags()).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);

  // Read the cap chain size
  setArgsz(24);
  ioctlCheckBuf(self, buf);
  expect(v.getBigUint64(8, true)).not.toBe(0n);
  expect(flags()).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
  expect(v.getUint32(16, true)).toBe(0);
  expect(24).toBeLessThan(v.getUint32(0, true));

  // Read the caps, kernel should never create a corrupted caps
  const caplen = v.getUint32(0, true);
  for (let i = 24; i < caplen; i++) {
    setArgsz(i);
    ioctlCheckBuf(self, buf);
    expect(flags()).toBe(VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS);
    if (!v.getUint32(16, true)) continue;
    checkVfioInfoCapChain(buf);
  }
  // Beyond the C loop: with room for every capability the chain is walked too.
  setArgsz(caplen);
  ioctlCheckBuf(self, buf);
  expect(v.getUint32(16, true)).toBe(24);
  checkVfioInfoCapChain(buf);
});

/** shuffle_array() */
function shuffle(array: number[], rand: () => number): void {
  for (let i = 0; i !== array.length; i++) {
    const tmp = array[i]!;
    const other = rand() % (array.length - i);
    array[i] = array[other]!;
    array[other] = tmp;
  }
}

TEST_F('map', (self) => {
  const { buffer } = self.proc;
  const mapCmd = { flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, vaddr: buffer, size: BUFFER_SIZE, iova: MOCK_APERTURE_START };
  const unmapCmd: { flags: number; iova: number | bigint; size: number | bigint } = {
    flags: 0,
    size: BUFFER_SIZE,
    iova: MOCK_APERTURE_START,
  };
  const pagesIova: number[] = [];

  // Simple map/unmap
  self.fd.vfioMapDma(mapCmd);
  self.fd.vfioUnmapDma(unmapCmd);
  expect(unmapCmd.size).toBe(BigInt(BUFFER_SIZE));
  // Unmap of empty is success
  self.fd.vfioUnmapDma(unmapCmd);

  // UNMAP_FLAG_ALL requires 0 iova/size
  self.fd.vfioMapDma(mapCmd);
  unmapCmd.flags = VFIO_DMA_UNMAP_FLAG_ALL;
  expectErrno('EINVAL', () => self.fd.vfioUnmapDma(unmapCmd));

  unmapCmd.iova = 0;
  unmapCmd.size = 0;
  self.fd.vfioUnmapDma(unmapCmd);
  expect(unmapCmd.size).toBe(BigInt(BUFFER_SIZE));

  // Small pages
  for (let i = 0; i !== BUFFER_SIZE / PAGE_SIZE; i++) {
    pagesIova[i] = MOCK_APERTURE_START + i * PAGE_SIZE;
    self.fd.vfioMapDma({ ...mapCmd, iova: pagesIova[i]!, vaddr: buffer + i * PAGE_SIZE, size: PAGE_SIZE });
  }
  shuffle(pagesIova, makeRand(7));

  unmapCmd.flags = 0;
  for (const iova of pagesIova) self.fd.vfioUnmapDma({ ...unmapCmd, iova, size: PAGE_SIZE });
});

TEST_F('huge_map', (self, variant) => {
  const bufSize = HUGEPAGE_SIZE * 2;
  const pagesIova: number[] = [];

  // Test huge pages and splitting
  const buf = self.proc.mm.mmap(bufSize, { hugetlb: true, populate: true });
  self.fd.vfioMapDma({ flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, size: bufSize, iova: MOCK_APERTURE_START, vaddr: buf });

  const piece = bufSize / 16;
  for (let i = 0; i !== 16; i++) pagesIova[i] = MOCK_APERTURE_START + i * piece;
  shuffle(pagesIova, makeRand(11));

  // type1 mode can cut up larger mappings, type1v2 always fails
  for (const iova of pagesIova) {
    const unmapCmd = { flags: 0, iova, size: piece };
    if (variant.version === VFIO_TYPE1_IOMMU) self.fd.vfioUnmapDma(unmapCmd);
    else expectErrno('ENOENT', () => self.fd.vfioUnmapDma(unmapCmd));
  }
});
