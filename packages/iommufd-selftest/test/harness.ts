/**
 * The kselftest harness and iommufd_utils.h, in vitest terms: FIXTURE /
 * FIXTURE_VARIANT / TEST_F become describeFixture(), each test is named
 * `<fixture>.<variant>.<test>` as the C harness prints it, and the C
 * helper macros become functions taking the fixture's `self`.
 */
import { describe, expect, it } from 'vitest';
import {
  IommufdCtx,
  IOMMU_HW_INFO_FLAG_INPUT_TYPE,
  IOMMU_HW_INFO_SELFTEST_REGVAL,
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_TEST_HW_INFO_SIZE,
  IOMMU_TEST_IOTLB_DEFAULT,
  IOMMUFD_TEST_MEMORY_LIMIT,
  MemFile,
  Mm,
  PhysMemory,
  errnoOf,
  type HwInfoCmd,
  type IommufdErrnoName,
  type MockDomainIds,
} from '../dist/index.js';

export const PAGE_SIZE = 4096;
export const HUGEPAGE_SIZE = 2 * 1024 * 1024;
/** BUFFER_SIZE = PAGE_SIZE * 16 */
export const BUFFER_SIZE = PAGE_SIZE * 16;
export const RW = IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

/**
 * The test process (setup_sizes()): a shared anonymous `buffer` aligned to a
 * huge page, and a memfd `mfd` mapped at `mfdBuffer`, both BUFFER_SIZE.
 */
export class Proc {
  readonly phys = new PhysMemory();
  readonly mm = new Mm(this.phys);
  readonly buffer: number;
  readonly mfd: MemFile;
  readonly mfdBuffer: number;

  constructor() {
    this.buffer = this.mm.mmap(BUFFER_SIZE, { addr: 0x7e0000000000 });
    this.mfd = new MemFile(this.phys, BUFFER_SIZE);
    this.mfdBuffer = this.mm.mmap(BUFFER_SIZE, { file: this.mfd });
  }
}

/** What every fixture has: the open iommufd and the process. */
export interface SelfBase {
  fd: IommufdCtx;
  proc: Proc;
}

/** `open("/dev/iommu")` */
export function openIommufd(proc: Proc): IommufdCtx {
  return new IommufdCtx(proc.mm);
}

/** A deterministic rand() for the tests that fill buffers with random data. */
export function makeRand(seed = 1): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s >>> 1;
  };
}

/** EXPECT_ERRNO(expected, cmd): the call must fail with exactly this errno. */
export function expectErrno(code: IommufdErrnoName, fn: () => unknown): void {
  let got: IommufdErrnoName | 0 = 0;
  try {
    fn();
  } catch (e) {
    got = errnoOf(e);
  }
  expect(got, `expected ${code}`).toBe(code);
}

/**
 * FIXTURE + FIXTURE_VARIANT + TEST_F: returns TEST_F. Each test runs setup,
 * the body and teardown on a fresh process, once per variant.
 */
export function describeFixture<V, S extends SelfBase>(
  fixture: string,
  variants: Record<string, V>,
  setup: (proc: Proc, variant: V) => S,
  teardown: (self: S, variant: V) => void,
): (test: string, body: (self: S, variant: V) => void, opts?: { timeout?: number }) => void {
  return (test, body, opts) => {
    describe(fixture, () => {
      for (const [name, variant] of Object.entries(variants)) {
        it(
          `${fixture}.${name}.${test}`,
          () => {
            const self = setup(new Proc(), variant);
            body(self, variant);
            teardown(self, variant);
          },
          opts?.timeout,
        );
      }
    });
  };
}

/* ---- iommufd_utils.h ---- */

export function testIoctlIoasAlloc(self: SelfBase): number {
  const id = self.fd.ioasAlloc();
  expect(id).not.toBe(0);
  return id;
}

export function testIoctlDestroy(self: SelfBase, id: number): void {
  self.fd.destroy(id);
}

export function testIoctlIoasMapId(self: SelfBase, ioasId: number, buffer: number, length: number | bigint): bigint {
  return self.fd.ioasMap(ioasId, RW, buffer, length);
}

export function testIoctlIoasMapFixedId(
  self: SelfBase,
  ioasId: number,
  buffer: number,
  length: number | bigint,
  iova: number | bigint,
): void {
  expect(self.fd.ioasMap(ioasId, IOMMU_IOAS_MAP_FIXED_IOVA | RW, buffer, length, iova)).toBe(BigInt(iova));
}

export function testIoctlIoasUnmapId(self: SelfBase, ioasId: number, iova: number | bigint, length: number | bigint): bigint {
  return self.fd.ioasUnmap(ioasId, iova, length);
}

export function testIoctlIoasMapIdFile(self: SelfBase, ioasId: number, mfd: MemFile, start: number, length: number): bigint {
  return self.fd.ioasMapFile(ioasId, RW, mfd, start, length);
}

export function testIoctlSetTempMemoryLimit(self: SelfBase, limit: number): void {
  self.fd.testSetTempMemoryLimit(limit);
}

export function testIoctlSetDefaultMemoryLimit(self: SelfBase): void {
  testIoctlSetTempMemoryLimit(self, IOMMUFD_TEST_MEMORY_LIMIT);
}

/** test_cmd_mock_domain(): the ids must be non-zero. */
export function testCmdMockDomain(self: SelfBase, ptId: number, devFlags = 0): MockDomainIds {
  const ids = self.fd.testMockDomain(ptId, devFlags);
  expect(ids.stdevId && ids.hwptId && ids.idevId).not.toBe(0);
  return ids;
}

export function testErrMockDomain(self: SelfBase, code: IommufdErrnoName, ptId: number, devFlags = 0): void {
  expectErrno(code, () => self.fd.testMockDomain(ptId, devFlags));
}

export function testCmdMockDomainReplace(self: SelfBase, stdevId: number, ptId: number): number {
  return self.fd.testMockDomainReplace(stdevId, ptId);
}

export function testErrMockDomainReplace(self: SelfBase, code: IommufdErrnoName, stdevId: number, ptId: number): void {
  expectErrno(code, () => self.fd.testMockDomainReplace(stdevId, ptId));
}

export function testCmdHwptAlloc(self: SelfBase, devId: number, ptId: number, flags: number): number {
  return self.fd.hwptAlloc({ devId, ptId, flags });
}

export function testErrHwptAlloc(self: SelfBase, code: IommufdErrnoName, devId: number, ptId: number, flags: number): void {
  expectErrno(code, () => self.fd.hwptAlloc({ devId, ptId, flags }));
}

/** test_cmd_hwpt_alloc_iommupt(): selftest data choosing the page table type. */
export function testCmdHwptAllocIommupt(self: SelfBase, devId: number, ptId: number, flags: number, pagetableType: number): number {
  return self.fd.hwptAlloc({
    devId,
    ptId,
    flags,
    data: { type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: IOMMU_TEST_IOTLB_DEFAULT, pagetableType }, len: 8 },
  });
}

export function testCmdSetDirtyTracking(self: SelfBase, hwptId: number, enabled: boolean): void {
  self.fd.hwptSetDirtyTracking(hwptId, enabled ? IOMMU_HWPT_DIRTY_TRACKING_ENABLE : 0);
}

export function testCmdCreateAccess(self: SelfBase, ioasId: number, flags: number): number {
  return self.fd.testCreateAccess(ioasId, flags);
}

export function testCmdDestroyAccess(self: SelfBase, accessId: number): void {
  self.fd.testDestroyAccess(accessId);
}

export function testCmdDestroyAccessPages(self: SelfBase, accessId: number, accessPagesId: number): void {
  self.fd.testDestroyAccessPages(accessId, accessPagesId);
}

export function testErrDestroyAccessPages(self: SelfBase, code: IommufdErrnoName, accessId: number, accessPagesId: number): void {
  expectErrno(code, () => self.fd.testDestroyAccessPages(accessId, accessPagesId));
}

export function testCmdAccessReplaceIoas(self: SelfBase, accessId: number, ioasId: number): void {
  self.fd.testAccessReplaceIoas(accessId, ioasId);
}

/**
 * _test_cmd_get_hw_info(): the kernel reports the selftest type and size,
 * fills what fits (flags 0, test_reg the magic value) and zeroes the rest.
 */
export function testCmdGetHwInfo(
  self: SelfBase,
  devId: number,
  dataType: number,
  data: Uint8Array | null,
  dataLen: number,
): { capabilities: number; maxPasid: number } {
  const cmd = {
    devId,
    flags: dataType !== IOMMU_HW_INFO_TYPE_DEFAULT ? IOMMU_HW_INFO_FLAG_INPUT_TYPE : 0,
    inDataType: dataType,
    data,
    dataLen,
  } as HwInfoCmd;
  self.fd.getHwInfo(cmd);
  expect(cmd.outDataType).toBe(IOMMU_HW_INFO_TYPE_SELFTEST);
  expect(cmd.dataLen).toBe(IOMMU_TEST_HW_INFO_SIZE);
  if (data !== null) {
    for (let i = cmd.dataLen; i < dataLen; i++) expect(data[i]).toBe(0);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    if (dataLen >= 8) expect(view.getUint32(4, true)).toBe(IOMMU_HW_INFO_SELFTEST_REGVAL);
    if (dataLen >= 4) expect(view.getUint32(0, true)).toBe(0);
  }
  return { capabilities: cmd.outCapabilities!, maxPasid: cmd.outMaxPasidLog2! };
}

export function testErrGetHwInfo(
  self: SelfBase,
  code: IommufdErrnoName,
  devId: number,
  dataType: number,
  data: Uint8Array | null,
  dataLen: number,
): void {
  expectErrno(code, () => testCmdGetHwInfo(self, devId, dataType, data, dataLen));
}

/** check_refs() */
export function checkRefs(self: SelfBase, ptr: number, length: number, refs: number): void {
  self.fd.testMdCheckRefs(ptr, length, refs);
}

/** The user bitmap helpers: bits in the process's memory. */
export function setBit(self: SelfBase, bitmap: number, nr: number): void {
  const b = self.proc.mm.read(bitmap + (nr >> 3), 1);
  b[0]! |= 1 << (nr & 7);
  self.proc.mm.write(bitmap + (nr >> 3), b);
}

/**
 * _test_mock_dirty_bitmaps(): mark every (2 * npte)-th bit dirty in the mock
 * domain, then read the bitmap back twice: first each marked PTE's npte bits
 * and nothing else, then zeroes (or the same bits with NO_CLEAR).
 */
export function testMockDirtyBitmaps(
  self: SelfBase,
  hwptId: number,
  length: number,
  iova: number,
  pageSize: number,
  ptePageSize: number,
  bitmap: number,
  nbits: number,
  flags: number,
): void {
  const npte = ptePageSize / pageSize;
  const pteset = 2 * npte;
  const nr = Math.floor(nbits / pteset) || 1;
  const bitmapSize = Math.ceil(nbits / 8);
  const mm = self.proc.mm;

  const marks = new Uint8Array(bitmapSize);
  for (let i = 0; i < nbits; i += pteset) marks[i >> 3]! |= 1 << (i & 7);
  mm.write(bitmap, marks);
  const outDirty = self.fd.testDirty(hwptId, iova, length, pageSize, bitmap);
  expect(outDirty).toBe(nr);

  const test = (bits: Uint8Array, n: number) => (bits[n >> 3]! >> (n & 7)) & 1;
  mm.fill(bitmap, bitmapSize, 0);
  self.fd.hwptGetDirtyBitmap({ hwptId, flags, iova, length, pageSize, data: bitmap });
  let bits = mm.read(bitmap, bitmapSize);
  for (let i = 0; i < nbits; i += pteset) {
    for (let j = 0; j < pteset; j++) {
      if (test(bits, i + j) !== (j < npte ? 1 : 0)) expect.fail(`bit ${i + j} after the first read`);
    }
  }

  mm.fill(bitmap, bitmapSize, 0);
  self.fd.hwptGetDirtyBitmap({ hwptId, flags, iova, length, pageSize, data: bitmap });
  bits = mm.read(bitmap, bitmapSize);
  const noClear = (flags & IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) !== 0;
  for (let i = 0; i < nbits; i += pteset) {
    for (let j = 0; j < pteset; j++) {
      if (test(bits, i + j) !== (j < npte && noClear ? 1 : 0)) expect.fail(`bit ${i + j} after the second read`);
    }
  }
}

/**
 * teardown_iommufd(): close the fd (destroying everything), then no page of
 * the shared buffer may still be pinned.
 */
export function teardownIommufd(self: SelfBase): void {
  self.fd.close();
  const fd = openIommufd(self.proc);
  fd.testMdCheckRefs(self.proc.buffer, BUFFER_SIZE, 0);
  fd.close();
  expect(self.proc.phys.totalPins()).toBe(0);
}
