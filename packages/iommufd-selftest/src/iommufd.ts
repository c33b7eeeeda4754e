/**
 * An open /dev/iommu (struct iommufd_ctx) with the ioctls the mock selftest
 * drives and the selftest's IOMMU_TEST_CMD ops. Every call either succeeds
 * or throws an IommufdError carrying the kernel's errno, leaving state as the
 * kernel would. The calling process is `current` (a fork()ed child can be
 * made current to map from another address space).
 */
import { U64_MAX } from '@genpt/pt-core';
import { SelftestAccess, IommufdAccess } from './access.js';
import { IommufdDevice, MockDev, SelftestDevice } from './device.js';
import { DmaBuf } from './dmabuf.js';
import { readAndClearDirtyData, setDirtyTracking, testDirty } from './dirty.js';
import { fail } from './errors.js';
import { HwptPaging, type HwptUserData } from './hwpt.js';
import {
  IommufdIoas,
  ioasAllowIovas,
  ioasCopy,
  ioasIovaRanges,
  ioasMap,
  ioasMapFile,
  ioasOptionHugePages,
  ioasUnmap,
  type IoasIovaRangesCmd,
} from './ioas.js';
import type { MemFile, Mm } from './mm.js';
import { ObjectTable } from './objects.js';
import {
  IOMMU_HW_CAP_DIRTY_TRACKING,
  IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED,
  IOMMU_HW_INFO_FLAG_INPUT_TYPE,
  IOMMU_HW_INFO_SELFTEST_REGVAL,
  IOMMU_HW_INFO_TYPE_DEFAULT,
  IOMMU_HW_INFO_TYPE_SELFTEST,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
  IOMMU_OPTION_RLIMIT_MODE,
  IOMMU_TEST_HW_INFO_SIZE,
  IOMMU_VFIO_IOAS_CLEAR,
  IOMMU_VFIO_IOAS_GET,
  IOMMU_VFIO_IOAS_SET,
  IOMMUFD_TEST_MEMORY_LIMIT,
  MOCK_ACCESS_RW_SLOW_PATH,
  MOCK_ACCESS_RW_WRITE,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MOCK_FLAGS_ACCESS_WRITE,
  MOCK_FLAGS_DEVICE_PASID,
  MOCK_PASID_WIDTH,
  PAGE_SIZE,
} from './uapi.js';
import {
  ioasMapFileFd,
  iommuDestroy,
  iommuHwInfo,
  iommuHwptAlloc,
  iommuHwptGetDirtyBitmap,
  iommuHwptSetDirtyTracking,
  iommuIoasAllowIovas,
  iommuIoasCopy,
  iommuIoasIovaRanges,
  iommuIoasMap,
  iommuIoasMapFile,
  iommuIoasUnmap,
  iommuOption,
  iommuVfioIoas,
  putUser,
  testOpAccessPages,
  testOpAccessReplaceIoas,
  testOpAccessRw,
  testOpAddReserved,
  testOpCreateAccess,
  testOpDestroyAccess,
  testOpDestroyAccessPages,
  testOpDirty,
  testOpDmabufGet,
  testOpDmabufRevoke,
  testOpMdCheckMap,
  testOpMdCheckRefs,
  testOpMockDomain,
  testOpMockDomainReplace,
  testOpPasidAttach,
  testOpPasidDetach,
  testOpPasidReplace,
  testOpSetTempMemoryLimit,
  userBytes,
  vfioIommuType1DmaMap,
  vfioIommuType1DmaUnmap,
  vfioSetIommuArg,
} from './uapi-check.js';
import { vfioGetInfo, vfioMapDma, vfioSetIommu, vfioUnmapDma, type VfioDmaMap, type VfioDmaUnmap } from './vfio-compat.js';

/** struct iommu_ioas_copy */
export interface IoasCopyCmd {
  flags: number;
  dstIoasId: number;
  srcIoasId: number;
  length: number | bigint;
  dstIova?: number | bigint;
  srcIova: number | bigint;
}

/** struct iommu_option */
export interface IommuOptionCmd {
  optionId: number;
  op: number;
  objectId: number;
  val64: number | bigint;
}

/** struct iommu_hwpt_alloc */
export interface HwptAllocCmd {
  devId: number;
  ptId: number;
  flags: number;
  /** data_type, data_uptr (null for NULL) and data_len; omitted means IOMMU_HWPT_DATA_NONE. */
  data?: HwptUserData;
  faultId?: number;
}

/** struct iommu_hwpt_get_dirty_bitmap: data is the user address of the bitmap. */
export interface GetDirtyBitmapCmd {
  hwptId: number;
  flags: number;
  iova: number | bigint;
  length: number | bigint;
  pageSize: number | bigint;
  data: number | bigint;
}

/** struct iommu_hw_info */
export interface HwInfoCmd {
  devId: number;
  flags?: number;
  inDataType?: number;
  /** The user buffer (data_uptr); data_len in, the kernel's length out. */
  data: Uint8Array | null;
  dataLen: number;
  outDataType?: number;
  outCapabilities?: number;
  outMaxPasidLog2?: number;
}

/** MOCK_DOMAIN's results. */
export interface MockDomainIds {
  stdevId: number;
  hwptId: number;
  idevId: number;
}

/** ACCESS_PAGES / ACCESS_RW refuse more than this much (kvzalloc would warn). */
const ACCESS_MAX_LENGTH = 16n * 1024n * 1024n;

/**
 * The ioctls. Each reads its arguments through its uAPI spec
 * (uapi-check.ts) first: a value the C field could not hold fails EINVAL
 * (EFAULT for pointers and the ioctl's struct, EBADF for file descriptors)
 * before anything is looked up or changed. Then the kernel's own checks
 * follow in the kernel's order.
 */
export class IommufdCtx {
  readonly objects = new ObjectTable();
  /** The process making the calls (current->mm). */
  current: Mm;
  /** The IOAS the VFIO compat ioctls act on. */
  vfioIoas: IommufdIoas | null = null;
  /** IOPT_PAGES_ACCOUNT_MM when true (the rlimit mode option). */
  accountMm = false;
  /** iommufd_test_memory_limit (a module parameter in the kernel; it only sizes temporary pfn batches). */
  memoryLimit = IOMMUFD_TEST_MEMORY_LIMIT;
  private readonly accessFds = new Map<number, SelftestAccess>();
  private nextFd = 1000;
  private closed = false;

  constructor(mm: Mm) {
    this.current = mm;
  }

  private live(): void {
    if (this.closed) fail('EBADF', 'iommufd is closed');
  }

  private ioas(id: number): IommufdIoas {
    return this.objects.get<IommufdIoas>(id, 'ioas');
  }

  private hwptPaging(id: number): HwptPaging {
    return this.objects.get<HwptPaging>(id, 'hwpt_paging');
  }

  private device(id: number): IommufdDevice {
    return this.objects.get<IommufdDevice>(id, 'device');
  }

  private staccess(fd: number): SelftestAccess {
    const s = this.accessFds.get(fd);
    if (s === undefined) fail('EBADFD', `fd ${fd} is not a selftest access`);
    return s;
  }

  /** Access fds the selftest driver has open (for checks that nothing changed). */
  get accessFdList(): ReadonlyArray<{ fd: number; items: number; ioasId: number }> {
    return [...this.accessFds].map(([fd, st]) => ({ fd, items: st.itemCount, ioasId: st.access.ioas?.id ?? 0 }));
  }

  /* ---- core ioctls ---- */

  /** IOMMU_IOAS_ALLOC */
  ioasAlloc(): number {
    this.live();
    const ioas = this.objects.alloc(new IommufdIoas());
    this.objects.finalize(ioas);
    return ioas.id;
  }

  /** IOMMU_DESTROY: ENOENT for no such object, EBUSY while anything uses it. */
  destroy(id: number): void {
    this.live();
    const a = iommuDestroy.args({ id });
    const obj = this.objects.get(a.id);
    if (obj.users === 1 && this.vfioIoas === obj) this.vfioIoas = null;
    this.objects.remove(a.id);
  }

  /** IOMMU_IOAS_MAP: returns the IOVA used (FIXED_IOVA) or allocated. */
  ioasMap(ioasId: number, flags: number, userVa: number | bigint, length: number | bigint, iova: number | bigint = 0): bigint {
    this.live();
    const a = iommuIoasMap.args({ ioasId, flags, userVa, length, iova });
    return ioasMap(() => this.ioas(a.ioasId), this.current, a.flags, a.userVa, a.length, a.iova);
  }

  /** IOMMU_IOAS_MAP_FILE: a memfd, or a dma-buf from testDmabufGet(). */
  ioasMapFile(
    ioasId: number,
    flags: number,
    file: MemFile | DmaBuf,
    start: number | bigint,
    length: number | bigint,
    iova: number | bigint = 0,
  ): bigint {
    this.live();
    const a = iommuIoasMapFile.args({ ioasId, flags, file, start, length, iova });
    return ioasMapFile(
      () => this.ioas(a.ioasId),
      () => ioasMapFileFd.read(a.file, iommuIoasMapFile.name, 'file'),
      a.flags,
      a.start,
      a.length,
      a.iova,
    );
  }

  /** IOMMU_IOAS_UNMAP: returns the bytes unmapped. */
  ioasUnmap(ioasId: number, iova: number | bigint, length: number | bigint): bigint {
    this.live();
    const a = iommuIoasUnmap.args({ ioasId, iova, length });
    return ioasUnmap(this.ioas(a.ioasId), a.iova, a.length);
  }

  /** IOMMU_IOAS_COPY: returns the destination IOVA. */
  ioasCopy(cmd: IoasCopyCmd): bigint {
    this.live();
    const c = iommuIoasCopy.cmd(cmd);
    return ioasCopy(
      () => this.ioas(c.srcIoasId),
      () => this.ioas(c.dstIoasId),
      c.flags,
      c.srcIova,
      c.length,
      c.dstIova,
    );
  }

  /** IOMMU_IOAS_IOVA_RANGES (cmd is updated even when it fails EMSGSIZE). */
  ioasIovaRanges(ioasId: number, cmd: IoasIovaRangesCmd): void {
    this.live();
    const a = iommuIoasIovaRanges.args({ ioasId, cmd });
    ioasIovaRanges(this.ioas(a.ioasId), a.cmd.numIovas, cmd);
  }

  /** IOMMU_IOAS_ALLOW_IOVAS */
  ioasAllowIovas(ioasId: number, ranges: ReadonlyArray<{ start: number | bigint; last: number | bigint }>): void {
    this.live();
    const a = iommuIoasAllowIovas.args({ ioasId, ranges });
    ioasAllowIovas(this.ioas(a.ioasId), a.ranges);
  }

  /** IOMMU_OPTION: returns val64 (the value read, or the one set). */
  option(cmd: IommuOptionCmd): bigint {
    this.live();
    const c = iommuOption.cmd(cmd);
    if (c.optionId === IOMMU_OPTION_RLIMIT_MODE) {
      if (c.objectId) fail('EOPNOTSUPP', 'rlimit mode is global');
      if (c.op === IOMMU_OPTION_OP_GET) return this.accountMm ? 1n : 0n;
      if (c.op !== IOMMU_OPTION_OP_SET) fail('EOPNOTSUPP', 'option op');
      if (this.objects.size) fail('EBUSY', 'objects exist');
      if (c.val64 !== 0n && c.val64 !== 1n) fail('EINVAL', 'rlimit mode is 0 or 1');
      this.accountMm = c.val64 === 1n;
      return c.val64;
    }
    if (c.optionId === IOMMU_OPTION_HUGE_PAGES) return ioasOptionHugePages(this.ioas(c.objectId), c.op, c.val64);
    fail('EOPNOTSUPP', 'unknown option');
  }

  /** IOMMU_HWPT_ALLOC on an IOAS: a manual HWPT with a new mock domain; returns its id. */
  hwptAlloc(cmd: HwptAllocCmd): number {
    this.live();
    const c = iommuHwptAlloc.cmd(cmd);
    const data = c.data ?? null;
    const type = data?.type ?? IOMMU_HWPT_DATA_NONE;
    const len = data?.len ?? 0;
    if ((type === IOMMU_HWPT_DATA_NONE && len) || (type !== IOMMU_HWPT_DATA_NONE && !len)) fail('EINVAL', 'data type and length');
    const idev = this.device(c.devId);
    // iommufd_get_object(IOMMUFD_OBJ_ANY) failing is EINVAL here, not ENOENT.
    if (!this.objects.has(c.ptId)) fail('EINVAL', 'no such page table');
    const pt = this.objects.get(c.ptId);
    if (pt instanceof HwptPaging) {
      // iommufd_hwpt_nested_alloc(): its checks, then what this model leaves out.
      if (c.flags & ~IOMMU_HWPT_FAULT_ID_VALID || !len) fail('EOPNOTSUPP', 'nested HWPT flags or data');
      if (pt.autoDomain || !pt.nestParent) fail('EINVAL', 'parent is not a NEST_PARENT HWPT');
      fail('EOPNOTSUPP', 'nested HWPTs are not modelled');
    }
    if (pt.type !== 'ioas') fail('EINVAL', 'not an IOAS');
    const hwpt = idev.allocHwpt(pt as IommufdIoas, c.flags, len ? data : null);
    if (c.flags & IOMMU_HWPT_FAULT_ID_VALID) {
      // No fault objects exist in this model: iommufd_get_fault() fails.
      this.objects.abort(hwpt);
      fail('ENOENT', `fault ${c.faultId}`);
    }
    this.objects.finalize(hwpt);
    return hwpt.id;
  }

  /** IOMMU_HWPT_SET_DIRTY_TRACKING */
  hwptSetDirtyTracking(hwptId: number, flags: number): void {
    this.live();
    const a = iommuHwptSetDirtyTracking.args({ hwptId, flags });
    const hwpt = this.hwptPaging(a.hwptId);
    setDirtyTracking(hwpt.ioas.iopt, hwpt.domain, (a.flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) !== 0);
  }

  /**
   * IOMMU_HWPT_GET_DIRTY_BITMAP: dirty IOVA as bits in user memory of the
   * current process. As in the kernel, a bitmap that cannot be pinned is
   * not an error: nothing is reported or cleared (see UserIovaBitmap).
   */
  hwptGetDirtyBitmap(cmd: GetDirtyBitmapCmd): void {
    this.live();
    const c = iommuHwptGetDirtyBitmap.cmd(cmd);
    const hwpt = this.hwptPaging(c.hwptId);
    readAndClearDirtyData(hwpt.ioas.iopt, hwpt.domain, c.flags, this.current, c.data, c.iova, c.length, c.pageSize);
  }

  /** IOMMU_GET_HW_INFO: the mock's struct iommu_test_hw_info and capabilities. */
  getHwInfo(cmd: HwInfoCmd): void {
    this.live();
    const c = iommuHwInfo.cmd(cmd);
    const inType = c.flags & IOMMU_HW_INFO_FLAG_INPUT_TYPE ? c.inDataType : IOMMU_HW_INFO_TYPE_DEFAULT;
    const idev = this.device(c.devId);
    if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_SELFTEST) fail('EOPNOTSUPP', 'hw info type');
    const info = new DataView(new ArrayBuffer(IOMMU_TEST_HW_INFO_SIZE));
    info.setUint32(4, IOMMU_HW_INFO_SELFTEST_REGVAL, true);
    const copy = Math.min(c.dataLen, IOMMU_TEST_HW_INFO_SIZE);
    // copy_to_user() and clear_user() of data_len bytes: a NULL, bogus or short buffer faults.
    if (c.dataLen) {
      if (c.data === null) fail('EFAULT', 'data pointer');
      const data = userBytes(c.data, c.dataLen, iommuHwInfo.name, 'data');
      data.set(new Uint8Array(info.buffer, 0, copy), 0);
      data.fill(0, copy, c.dataLen);
    }
    const where = iommuHwInfo.name;
    putUser(cmd, 'dataLen', IOMMU_TEST_HW_INFO_SIZE, where);
    putUser(cmd, 'outDataType', IOMMU_HW_INFO_TYPE_SELFTEST, where);
    // A mock device is not PCI, so ATS is never usable.
    putUser(cmd, 'outCapabilities', (idev.dev.dirtyCapable ? IOMMU_HW_CAP_DIRTY_TRACKING : 0) | IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED, where);
    putUser(cmd, 'outMaxPasidLog2', idev.dev.flags & MOCK_FLAGS_DEVICE_PASID ? MOCK_PASID_WIDTH : 0, where);
  }

  /* ---- VFIO compatibility ---- */

  /** IOMMU_VFIO_IOAS: get (returns the id), set or clear the compat IOAS. */
  vfioIoasOp(op: number, ioasId = 0): number {
    this.live();
    const a = iommuVfioIoas.args({ op, ioasId });
    if (a.op === IOMMU_VFIO_IOAS_GET) {
      if (this.vfioIoas === null) fail('ENODEV', 'no compat IOAS');
      return this.vfioIoas.id;
    }
    if (a.op === IOMMU_VFIO_IOAS_SET) {
      this.vfioIoas = this.ioas(a.ioasId);
      return a.ioasId;
    }
    if (a.op === IOMMU_VFIO_IOAS_CLEAR) {
      this.vfioIoas = null;
      return 0;
    }
    fail('EOPNOTSUPP', 'vfio ioas op');
  }

  /** VFIO_SET_IOMMU */
  vfioSetIommu(type: number | bigint): void {
    this.live();
    vfioSetIommu(this.vfioIoas, vfioSetIommuArg.args({ type }).type);
  }

  /** VFIO_IOMMU_MAP_DMA */
  vfioMapDma(map: VfioDmaMap): void {
    this.live();
    vfioMapDma(this.vfioIoas, this.current, vfioIommuType1DmaMap.cmd(map));
  }

  /** VFIO_IOMMU_UNMAP_DMA: writes the bytes unmapped back to unmap.size. */
  vfioUnmapDma(unmap: VfioDmaUnmap): void {
    this.live();
    const unmapped = vfioUnmapDma(this.vfioIoas, vfioIommuType1DmaUnmap.cmd(unmap));
    putUser(unmap, 'size', unmapped, vfioIommuType1DmaUnmap.name);
  }

  /** VFIO_IOMMU_GET_INFO on a user buffer (EFAULT unless a Uint8Array holding what is read and written). */
  vfioGetInfo(buf: Uint8Array): void {
    this.live();
    vfioGetInfo(this.vfioIoas, buf);
  }

  /* ---- IOMMU_TEST_CMD ---- */

  /** ADD_RESERVED: reserve IOVA in an IOAS (EADDRINUSE over areas or allowed ranges). */
  testAddReserved(ioasId: number, start: number | bigint, length: number | bigint): void {
    this.live();
    const a = testOpAddReserved.args({ ioasId, start, length });
    if (!a.length) fail('EINVAL', 'length 0');
    const last = a.start + a.length - 1n;
    if (last >= 1n << 64n) fail('EOVERFLOW', 'start + length');
    this.ioas(a.ioasId).iopt.reserveIova(a.start, last, null);
  }

  /**
   * MOCK_DOMAIN / MOCK_DOMAIN_FLAGS: create a mock device, bind it and attach
   * it to an IOAS (automatic HWPT) or a HWPT.
   */
  testMockDomain(ptId: number, devFlags = 0): MockDomainIds {
    this.live();
    const a = testOpMockDomain.args({ ptId, devFlags });
    const sobj = this.objects.alloc(new SelftestDevice(this.objects));
    let idev: IommufdDevice | null = null;
    try {
      const dev = new MockDev(a.devFlags);
      idev = this.objects.alloc(new IommufdDevice(this.objects, dev));
      this.objects.finalize(idev);
      const hwptId = idev.changePt(a.ptId, false);
      sobj.idev = idev;
      this.objects.finalize(sobj);
      return { stdevId: sobj.id, hwptId, idevId: idev.id };
    } catch (e) {
      if (idev !== null && sobj.idev === null) {
        idev.users--;
        this.objects.remove(idev.id);
      }
      this.objects.abort(sobj);
      throw e;
    }
  }

  /** MOCK_DOMAIN_REPLACE: move the device to another IOAS or HWPT; returns the HWPT id. */
  testMockDomainReplace(stdevId: number, ptId: number): number {
    this.live();
    const a = testOpMockDomainReplace.args({ stdevId, ptId });
    return this.selftestIdev(a.stdevId).changePt(a.ptId, true);
  }

  /** PASID_ATTACH: attach a PASID of the mock device to an IOAS or HWPT; returns the HWPT id. */
  testPasidAttach(stdevId: number, pasid: number, ptId: number): number {
    this.live();
    const a = testOpPasidAttach.args({ stdevId, pasid, ptId });
    return this.selftestIdev(a.stdevId).changePt(a.ptId, false, a.pasid);
  }

  /** PASID_REPLACE */
  testPasidReplace(stdevId: number, pasid: number, ptId: number): number {
    this.live();
    const a = testOpPasidReplace.args({ stdevId, pasid, ptId });
    return this.selftestIdev(a.stdevId).changePt(a.ptId, true, a.pasid);
  }

  /** PASID_DETACH */
  testPasidDetach(stdevId: number, pasid: number): void {
    this.live();
    const a = testOpPasidDetach.args({ stdevId, pasid });
    this.selftestIdev(a.stdevId).detach(a.pasid);
  }

  private selftestIdev(stdevId: number): IommufdDevice {
    const sobj = this.objects.get<SelftestDevice>(stdevId, 'selftest');
    if (sobj.idev === null) fail('EINVAL', 'not a device');
    return sobj.idev;
  }

  /**
   * MD_CHECK_MAP: every domain page of [iova, + length) must translate to the
   * pfn the current process has at uptr (plus the offset in the page).
   */
  testMdCheckMap(hwptId: number, iova: number | bigint, length: number | bigint, uptr: number | bigint): void {
    this.live();
    const a = testOpMdCheckMap.args({ hwptId, iova, length, uptr });
    const hwpt = this.hwptPaging(a.hwptId);
    const ps = hwpt.domain.minPageSize;
    let at = a.iova;
    let len = a.length;
    // check_add_overflow(uptr, length) is EINVAL too.
    if (at % ps || len % ps || a.uptr % ps || a.uptr + len > U64_MAX) fail('EINVAL', 'not aligned');
    let va = Number(a.uptr);
    for (; len; len -= ps) {
      const pfn = this.current.getUserPage(va);
      const phys = hwpt.domain.iovaToPhys(at);
      if (phys !== BigInt(pfn * PAGE_SIZE + (va % PAGE_SIZE))) fail('EINVAL', `IOVA 0x${at.toString(16)} maps 0x${phys.toString(16)}`);
      at += ps;
      va += Number(ps);
    }
  }

  /** MD_CHECK_REFS: every small page of the user range is pinned exactly refs times (EIO otherwise). */
  testMdCheckRefs(uptr: number | bigint, length: number | bigint, refs: number): void {
    this.live();
    const a = testOpMdCheckRefs.args({ uptr, length, refs });
    const page = BigInt(PAGE_SIZE);
    if (a.length % page || a.uptr % page || a.uptr + a.length > U64_MAX) fail('EINVAL', 'not page aligned');
    // Page-aligned, so exact as a number.
    const base = Number(a.uptr);
    for (let off = 0n; off < a.length; off += page) {
      const va = base + Number(off);
      const p = this.current.phys.page(this.current.getUserPage(va));
      if (!p.compound && p.pins !== a.refs) fail('EIO', `page at 0x${va.toString(16)} has ${p.pins} pins`);
    }
  }

  /** CREATE_ACCESS: an access on an IOAS, returned as a file descriptor. */
  testCreateAccess(ioasId: number, flags: number): number {
    this.live();
    const a = testOpCreateAccess.args({ ioasId, flags });
    const st = new SelftestAccess(this.nextFd, (a.flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) !== 0);
    const access = this.objects.alloc(new IommufdAccess(st));
    this.objects.finalize(access);
    st.access = access;
    try {
      access.changeIoas(this.ioas(a.ioasId));
    } catch (e) {
      access.users--;
      this.objects.remove(access.id);
      throw e;
    }
    this.accessFds.set(this.nextFd, st);
    return this.nextFd++;
  }

  /** close() of an access fd. */
  testDestroyAccess(fd: number): void {
    const a = testOpDestroyAccess.args({ fd });
    this.staccess(a.fd).release(this.objects);
    this.accessFds.delete(a.fd);
  }

  /** DESTROY_ACCESS_PAGES */
  testDestroyAccessPages(fd: number, accessPagesId: number): void {
    this.live();
    const a = testOpDestroyAccessPages.args({ fd, accessPagesId });
    this.staccess(a.fd).destroyItem(a.accessPagesId);
  }

  /**
   * ACCESS_PAGES: pin [iova, + length) through the access and, when uptr is
   * given, check the pinned pages are the ones the process has there (EBADE).
   * Returns the access pages id.
   */
  testAccessPages(fd: number, iova: number | bigint, length: number | bigint, uptr: number | bigint, flags = 0): number {
    this.live();
    const a = testOpAccessPages.args({ fd, iova, length, uptr, flags });
    if (a.length > ACCESS_MAX_LENGTH) fail('ENOMEM', 'length');
    if (a.flags & ~MOCK_FLAGS_ACCESS_WRITE) fail('EOPNOTSUPP', 'flags');
    const st = this.staccess(a.fd);
    const { id, pfns } = st.pin(a.iova, a.length, (a.flags & MOCK_FLAGS_ACCESS_WRITE) !== 0);
    if (a.uptr) {
      try {
        // uptr - (iova - ALIGN_DOWN(iova, PAGE_SIZE)) in pointer arithmetic; nothing is mapped where it is inexact.
        const base = Number((a.uptr - (a.iova % BigInt(PAGE_SIZE))) & U64_MAX);
        pfns.forEach((pfn, i) => {
          if (this.current.getUserPage(base + i * PAGE_SIZE) !== pfn) fail('EBADE', `page ${i} differs`);
        });
      } catch (e) {
        st.destroyItem(id);
        throw e;
      }
    }
    return id;
  }

  /** ACCESS_RW: copy between user memory at uptr and IOVA through the access. */
  testAccessRw(fd: number, iova: number | bigint, length: number | bigint, uptr: number | bigint, flags = 0): void {
    this.live();
    const a = testOpAccessRw.args({ fd, iova, length, uptr, flags });
    if (a.length > ACCESS_MAX_LENGTH) fail('ENOMEM', 'length');
    if (a.flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH)) fail('EOPNOTSUPP', 'flags');
    const st = this.staccess(a.fd);
    const write = (a.flags & MOCK_ACCESS_RW_WRITE) !== 0;
    const len = Number(a.length);
    // copy_from_user() / copy_to_user(): nothing is mapped where a uptr past 2^53 is inexact.
    const va = Number(a.uptr);
    const tmp = write ? this.current.read(va, len) : new Uint8Array(len);
    st.access.rw(this.current, a.iova, tmp, a.flags);
    if (!write) this.current.write(va, tmp);
  }

  /** SET_TEMP_MEMORY_LIMIT */
  testSetTempMemoryLimit(limit: number): void {
    this.live();
    const a = testOpSetTempMemoryLimit.args({ limit });
    // Room for at least one pfn batch element (unsigned long + u32).
    if (a.limit < 12) fail('EINVAL', 'limit too small');
    this.memoryLimit = a.limit;
  }

  /** ACCESS_REPLACE_IOAS */
  testAccessReplaceIoas(fd: number, ioasId: number): void {
    this.live();
    const a = testOpAccessReplaceIoas.args({ fd, ioasId });
    const access = this.staccess(a.fd).access;
    if (access.ioas === null) fail('ENOENT', 'access not attached');
    access.changeIoas(this.ioas(a.ioasId));
  }

  /** DIRTY: set the dirty bit of each IOVA page whose bit is set in the user bitmap; returns how many. */
  testDirty(hwptId: number, iova: number | bigint, length: number | bigint, pageSize: number | bigint, uptr: number | bigint): number {
    this.live();
    const a = testOpDirty.args({ hwptId, iova, length, pageSize, uptr });
    return testDirty(() => this.hwptPaging(a.hwptId).domain, this.current, a.iova, a.length, a.pageSize, a.uptr);
  }

  /** DMABUF_GET: a dma-buf of length bytes (rounded up to pages, at most 512 pages). */
  testDmabufGet(length: number | bigint): DmaBuf {
    this.live();
    return new DmaBuf(this.current.phys, testOpDmabufGet.args({ length }).length);
  }

  /** DMABUF_REVOKE */
  testDmabufRevoke(dmabuf: DmaBuf, revoked: boolean): void {
    this.live();
    const a = testOpDmabufRevoke.args({ dmabuf, revoked });
    a.dmabuf.revoke(a.revoked);
  }

  /* ---- close ---- */

  /**
   * close(): release every access, then destroy objects leaves first, as
   * iommufd_fops_release does. Throws if anything is left (a refcount bug).
   */
  close(): void {
    if (this.closed) return;
    for (const fd of [...this.accessFds.keys()]) this.testDestroyAccess(fd);
    for (;;) {
      let destroyed = 0;
      for (const obj of this.objects.list()) {
        if (obj.users !== 1 || !this.objects.has(obj.id)) continue;
        this.objects.remove(obj.id);
        destroyed++;
      }
      if (!destroyed) break;
    }
    this.vfioIoas = null;
    this.closed = true;
    if (this.objects.size) throw new Error(`iommufd close left ${this.objects.size} objects`);
  }
}
