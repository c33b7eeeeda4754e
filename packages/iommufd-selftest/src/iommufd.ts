/**
 * An open /dev/iommu (struct iommufd_ctx) with the ioctls the mock selftest
 * drives and the selftest's IOMMU_TEST_CMD ops. Every call either succeeds
 * or throws an IommufdError carrying the kernel's errno, leaving state as the
 * kernel would. The calling process is `current` (a fork()ed child can be
 * made current to map from another address space).
 */
import { SelftestAccess, IommufdAccess } from './access.js';
import { IommufdDevice, MockDev, SelftestDevice } from './device.js';
import { DmaBuf } from './dmabuf.js';
import { readAndClearDirtyData, setDirtyTracking, testDirty, UserIovaBitmap } from './dirty.js';
import { fail } from './errors.js';
import type { HwptPaging, HwptUserData } from './hwpt.js';
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
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
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
import { u64 } from './u64.js';
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
  data: number;
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
    const obj = this.objects.get(id);
    if (obj.users === 1 && this.vfioIoas === obj) this.vfioIoas = null;
    this.objects.remove(id);
  }

  /** IOMMU_IOAS_MAP: returns the IOVA used (FIXED_IOVA) or allocated. */
  ioasMap(ioasId: number, flags: number, userVa: number, length: number | bigint, iova: number | bigint = 0): bigint {
    this.live();
    return ioasMap(() => this.ioas(ioasId), this.current, flags, userVa, length, iova);
  }

  /** IOMMU_IOAS_MAP_FILE: a memfd, or a dma-buf from testDmabufGet(). */
  ioasMapFile(
    ioasId: number,
    flags: number,
    file: MemFile | DmaBuf,
    start: number,
    length: number | bigint,
    iova: number | bigint = 0,
  ): bigint {
    this.live();
    return ioasMapFile(() => this.ioas(ioasId), file, flags, start, length, iova);
  }

  /** IOMMU_IOAS_UNMAP: returns the bytes unmapped. */
  ioasUnmap(ioasId: number, iova: number | bigint, length: number | bigint): bigint {
    this.live();
    return ioasUnmap(this.ioas(ioasId), iova, length);
  }

  /** IOMMU_IOAS_COPY: returns the destination IOVA. */
  ioasCopy(cmd: IoasCopyCmd): bigint {
    this.live();
    return ioasCopy(
      () => this.ioas(cmd.srcIoasId),
      () => this.ioas(cmd.dstIoasId),
      cmd.flags,
      cmd.srcIova,
      cmd.length,
      cmd.dstIova ?? 0,
    );
  }

  /** IOMMU_IOAS_IOVA_RANGES (cmd is updated even when it fails EMSGSIZE). */
  ioasIovaRanges(ioasId: number, cmd: IoasIovaRangesCmd): void {
    this.live();
    ioasIovaRanges(this.ioas(ioasId), cmd);
  }

  /** IOMMU_IOAS_ALLOW_IOVAS */
  ioasAllowIovas(ioasId: number, ranges: ReadonlyArray<{ start: number | bigint; last: number | bigint }>): void {
    this.live();
    ioasAllowIovas(this.ioas(ioasId), ranges);
  }

  /** IOMMU_OPTION: returns val64 (the value read, or the one set). */
  option(cmd: IommuOptionCmd): bigint {
    this.live();
    if (cmd.optionId === IOMMU_OPTION_RLIMIT_MODE) {
      if (cmd.objectId) fail('EOPNOTSUPP', 'rlimit mode is global');
      if (cmd.op === IOMMU_OPTION_OP_GET) return this.accountMm ? 1n : 0n;
      if (cmd.op !== IOMMU_OPTION_OP_SET) fail('EOPNOTSUPP', 'option op');
      if (this.objects.size) fail('EBUSY', 'objects exist');
      const v = BigInt(cmd.val64);
      if (v !== 0n && v !== 1n) fail('EINVAL', 'rlimit mode is 0 or 1');
      this.accountMm = v === 1n;
      return v;
    }
    if (cmd.optionId === IOMMU_OPTION_HUGE_PAGES) return ioasOptionHugePages(this.ioas(cmd.objectId), cmd.op, cmd.val64);
    fail('EOPNOTSUPP', 'unknown option');
  }

  /** IOMMU_HWPT_ALLOC on an IOAS: a manual HWPT with a new mock domain; returns its id. */
  hwptAlloc(cmd: HwptAllocCmd): number {
    this.live();
    const data = cmd.data ?? null;
    const type = data?.type ?? IOMMU_HWPT_DATA_NONE;
    const len = data?.len ?? 0;
    if ((type === IOMMU_HWPT_DATA_NONE && len) || (type !== IOMMU_HWPT_DATA_NONE && !len)) fail('EINVAL', 'data type and length');
    const idev = this.device(cmd.devId);
    if (!this.objects.has(cmd.ptId)) fail('EINVAL', 'no such page table');
    const pt = this.objects.get(cmd.ptId);
    if (pt.type === 'hwpt_paging') throw new Error('nested HWPTs (IOMMU_HWPT_ALLOC on a HWPT) are not modelled');
    if (pt.type !== 'ioas') fail('EINVAL', 'not an IOAS');
    const hwpt = idev.allocHwpt(pt as IommufdIoas, cmd.flags, len ? data : null);
    if (cmd.flags & IOMMU_HWPT_FAULT_ID_VALID) {
      // No fault objects exist in this model: iommufd_get_fault() fails.
      this.objects.abort(hwpt);
      fail('ENOENT', `fault ${cmd.faultId ?? 0}`);
    }
    this.objects.finalize(hwpt);
    return hwpt.id;
  }

  /** IOMMU_HWPT_SET_DIRTY_TRACKING */
  hwptSetDirtyTracking(hwptId: number, flags: number): void {
    this.live();
    if (flags & ~IOMMU_HWPT_DIRTY_TRACKING_ENABLE) fail('EOPNOTSUPP', 'flags');
    const hwpt = this.hwptPaging(hwptId);
    setDirtyTracking(hwpt.ioas.iopt, hwpt.domain, (flags & IOMMU_HWPT_DIRTY_TRACKING_ENABLE) !== 0);
  }

  /** IOMMU_HWPT_GET_DIRTY_BITMAP: dirty IOVA as bits in user memory of the current process. */
  hwptGetDirtyBitmap(cmd: GetDirtyBitmapCmd): void {
    this.live();
    if (cmd.flags & ~IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR) fail('EOPNOTSUPP', 'flags');
    const hwpt = this.hwptPaging(cmd.hwptId);
    const bitmap = new UserIovaBitmap(this.current, cmd.data, u64(cmd.iova), u64(cmd.length), u64(cmd.pageSize));
    readAndClearDirtyData(hwpt.ioas.iopt, hwpt.domain, cmd.flags, bitmap);
  }

  /** IOMMU_GET_HW_INFO: the mock's struct iommu_test_hw_info and capabilities. */
  getHwInfo(cmd: HwInfoCmd): void {
    this.live();
    if ((cmd.flags ?? 0) & ~IOMMU_HW_INFO_FLAG_INPUT_TYPE) fail('EOPNOTSUPP', 'flags');
    const inType = (cmd.flags ?? 0) & IOMMU_HW_INFO_FLAG_INPUT_TYPE ? (cmd.inDataType ?? 0) : IOMMU_HW_INFO_TYPE_DEFAULT;
    const idev = this.device(cmd.devId);
    if (inType !== IOMMU_HW_INFO_TYPE_DEFAULT && inType !== IOMMU_HW_INFO_TYPE_SELFTEST) fail('EOPNOTSUPP', 'hw info type');
    const info = new DataView(new ArrayBuffer(IOMMU_TEST_HW_INFO_SIZE));
    info.setUint32(4, IOMMU_HW_INFO_SELFTEST_REGVAL, true);
    const copy = Math.min(cmd.dataLen, IOMMU_TEST_HW_INFO_SIZE);
    if (cmd.dataLen && cmd.data === null) fail('EFAULT', 'data pointer');
    if (cmd.data !== null) {
      cmd.data.set(new Uint8Array(info.buffer, 0, copy), 0);
      cmd.data.fill(0, copy, cmd.dataLen);
    }
    cmd.dataLen = IOMMU_TEST_HW_INFO_SIZE;
    cmd.outDataType = IOMMU_HW_INFO_TYPE_SELFTEST;
    // A mock device is not PCI, so ATS is never usable.
    cmd.outCapabilities = (idev.dev.dirtyCapable ? IOMMU_HW_CAP_DIRTY_TRACKING : 0) | IOMMU_HW_CAP_PCI_ATS_NOT_SUPPORTED;
    cmd.outMaxPasidLog2 = idev.dev.flags & MOCK_FLAGS_DEVICE_PASID ? MOCK_PASID_WIDTH : 0;
  }

  /* ---- VFIO compatibility ---- */

  /** IOMMU_VFIO_IOAS: get (returns the id), set or clear the compat IOAS. */
  vfioIoasOp(op: number, ioasId = 0): number {
    this.live();
    if (op === IOMMU_VFIO_IOAS_GET) {
      if (this.vfioIoas === null) fail('ENODEV', 'no compat IOAS');
      return this.vfioIoas.id;
    }
    if (op === IOMMU_VFIO_IOAS_SET) {
      this.vfioIoas = this.ioas(ioasId);
      return ioasId;
    }
    if (op === IOMMU_VFIO_IOAS_CLEAR) {
      this.vfioIoas = null;
      return 0;
    }
    fail('EOPNOTSUPP', 'vfio ioas op');
  }

  vfioSetIommu(type: number): void {
    this.live();
    vfioSetIommu(this.vfioIoas, type);
  }

  vfioMapDma(map: VfioDmaMap): void {
    this.live();
    vfioMapDma(this.vfioIoas, this.current, map);
  }

  vfioUnmapDma(unmap: VfioDmaUnmap): void {
    this.live();
    vfioUnmapDma(this.vfioIoas, unmap);
  }

  vfioGetInfo(buf: Uint8Array): void {
    this.live();
    vfioGetInfo(this.vfioIoas, buf);
  }

  /* ---- IOMMU_TEST_CMD ---- */

  /** ADD_RESERVED: reserve IOVA in an IOAS (EADDRINUSE over areas or allowed ranges). */
  testAddReserved(ioasId: number, start: number | bigint, length: number | bigint): void {
    this.live();
    const s = u64(start);
    const len = u64(length);
    if (!len) fail('EINVAL', 'length 0');
    const last = s + len - 1n;
    if (last >= 1n << 64n) fail('EOVERFLOW', 'start + length');
    this.ioas(ioasId).iopt.reserveIova(s, last, null);
  }

  /**
   * MOCK_DOMAIN / MOCK_DOMAIN_FLAGS: create a mock device, bind it and attach
   * it to an IOAS (automatic HWPT) or a HWPT.
   */
  testMockDomain(ptId: number, devFlags = 0): MockDomainIds {
    this.live();
    const sobj = this.objects.alloc(new SelftestDevice(this.objects));
    let idev: IommufdDevice | null = null;
    try {
      const dev = new MockDev(devFlags);
      idev = this.objects.alloc(new IommufdDevice(this.objects, dev));
      this.objects.finalize(idev);
      const hwptId = idev.changePt(ptId, false);
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
    return this.selftestIdev(stdevId).changePt(ptId, true);
  }

  /** PASID_ATTACH: attach a PASID of the mock device to an IOAS or HWPT; returns the HWPT id. */
  testPasidAttach(stdevId: number, pasid: number, ptId: number): number {
    this.live();
    return this.selftestIdev(stdevId).changePt(ptId, false, pasid);
  }

  /** PASID_REPLACE */
  testPasidReplace(stdevId: number, pasid: number, ptId: number): number {
    this.live();
    return this.selftestIdev(stdevId).changePt(ptId, true, pasid);
  }

  /** PASID_DETACH */
  testPasidDetach(stdevId: number, pasid: number): void {
    this.live();
    this.selftestIdev(stdevId).detach(pasid);
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
  testMdCheckMap(hwptId: number, iova: number | bigint, length: number | bigint, uptr: number): void {
    this.live();
    const hwpt = this.hwptPaging(hwptId);
    const ps = hwpt.domain.minPageSize;
    let at = u64(iova);
    let len = u64(length);
    if (at % ps || len % ps || BigInt(uptr) % ps || !Number.isSafeInteger(uptr + Number(len))) fail('EINVAL', 'not aligned');
    let va = uptr;
    for (; len; len -= ps) {
      const pfn = this.current.getUserPage(va);
      const phys = hwpt.domain.iovaToPhys(at);
      if (phys !== BigInt(pfn * PAGE_SIZE + (va % PAGE_SIZE))) fail('EINVAL', `IOVA 0x${at.toString(16)} maps 0x${phys.toString(16)}`);
      at += ps;
      va += Number(ps);
    }
  }

  /** MD_CHECK_REFS: every small page of the user range is pinned exactly refs times (EIO otherwise). */
  testMdCheckRefs(uptr: number, length: number, refs: number): void {
    this.live();
    if (length % PAGE_SIZE || uptr % PAGE_SIZE || !Number.isSafeInteger(uptr + length)) fail('EINVAL', 'not page aligned');
    for (let off = 0; off < length; off += PAGE_SIZE) {
      const page = this.current.phys.page(this.current.getUserPage(uptr + off));
      if (!page.compound && page.pins !== refs) fail('EIO', `page at 0x${(uptr + off).toString(16)} has ${page.pins} pins`);
    }
  }

  /** CREATE_ACCESS: an access on an IOAS, returned as a file descriptor. */
  testCreateAccess(ioasId: number, flags: number): number {
    this.live();
    if (flags & ~MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) fail('EOPNOTSUPP', 'flags');
    const st = new SelftestAccess(this.nextFd, (flags & MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES) !== 0);
    const access = this.objects.alloc(new IommufdAccess(st));
    this.objects.finalize(access);
    st.access = access;
    try {
      access.changeIoas(this.ioas(ioasId));
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
    this.staccess(fd).release(this.objects);
    this.accessFds.delete(fd);
  }

  /** DESTROY_ACCESS_PAGES */
  testDestroyAccessPages(fd: number, accessPagesId: number): void {
    this.live();
    this.staccess(fd).destroyItem(accessPagesId);
  }

  /**
   * ACCESS_PAGES: pin [iova, + length) through the access and, when uptr is
   * given, check the pinned pages are the ones the process has there (EBADE).
   * Returns the access pages id.
   */
  testAccessPages(fd: number, iova: number | bigint, length: number, uptr: number, flags = 0): number {
    this.live();
    if (length > 16 * 1024 * 1024) fail('ENOMEM', 'length');
    if (flags & ~MOCK_FLAGS_ACCESS_WRITE) fail('EOPNOTSUPP', 'flags');
    const st = this.staccess(fd);
    const at = u64(iova);
    const { id, pfns } = st.pin(at, BigInt(length), (flags & MOCK_FLAGS_ACCESS_WRITE) !== 0);
    if (uptr) {
      try {
        const base = uptr - Number(at % BigInt(PAGE_SIZE));
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
  testAccessRw(fd: number, iova: number | bigint, length: number, uptr: number, flags = 0): void {
    this.live();
    if (length > 16 * 1024 * 1024) fail('ENOMEM', 'length');
    if (flags & ~(MOCK_ACCESS_RW_WRITE | MOCK_ACCESS_RW_SLOW_PATH)) fail('EOPNOTSUPP', 'flags');
    const st = this.staccess(fd);
    const write = (flags & MOCK_ACCESS_RW_WRITE) !== 0;
    const tmp = write ? this.current.read(uptr, length) : new Uint8Array(length);
    st.access.rw(this.current, u64(iova), tmp, flags);
    if (!write) this.current.write(uptr, tmp);
  }

  /** SET_TEMP_MEMORY_LIMIT */
  testSetTempMemoryLimit(limit: number): void {
    this.live();
    // Room for at least one pfn batch element (unsigned long + u32).
    if (limit < 12) fail('EINVAL', 'limit too small');
    this.memoryLimit = limit;
  }

  /** ACCESS_REPLACE_IOAS */
  testAccessReplaceIoas(fd: number, ioasId: number): void {
    this.live();
    const access = this.staccess(fd).access;
    if (access.ioas === null) fail('ENOENT', 'access not attached');
    access.changeIoas(this.ioas(ioasId));
  }

  /** DIRTY: set the dirty bit of each IOVA page whose bit is set in the user bitmap; returns how many. */
  testDirty(hwptId: number, iova: number | bigint, length: number | bigint, pageSize: number | bigint, uptr: number): number {
    this.live();
    const hwpt = this.hwptPaging(hwptId);
    return testDirty(hwpt.domain, this.current, u64(iova), u64(length), u64(pageSize), uptr);
  }

  /** DMABUF_GET: a dma-buf of len bytes (rounded up to pages, at most 512 pages). */
  testDmabufGet(len: number): DmaBuf {
    this.live();
    return new DmaBuf(this.current.phys, len);
  }

  /** DMABUF_REVOKE */
  testDmabufRevoke(dmabuf: DmaBuf, revoked: boolean): void {
    this.live();
    dmabuf.revoke(revoked);
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
