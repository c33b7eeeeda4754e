/**
 * struct protection_domain on iommupt: a paging domain whose table is an
 * AMDv1 (v1, host) or x86-64 (v2, guest) table from @genpt/iommu-ops, with
 * the domain ops wired as the kernel wires them — the table's own map /
 * unmap / iova_to_phys / read_and_clear_dirty, and the driver's iotlb_sync,
 * iotlb_sync_map, flush_iotlb_all, attach_dev, set_dirty_tracking and free.
 * The iommupt driver hooks (change_top, get_top_lock) point every attached
 * device at a grown v1 table under the domain lock.
 */
import {
  argBool,
  bit,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PtError,
  u64IncHi,
  u64IncLo,
  u64Split,
  u64SubHi,
  u64SubLo,
  U64Pair,
  type U64,
} from '@genpt/pt-core';
import {
  IommuDirtyBitmap,
  IommuIotlbGather,
  iommuIotlbSync,
  iommuMap,
  iommuUnmap,
  IovaRangeRecorder,
  putPagesList,
  PtIommu,
  PtSpinLock,
  type IommuDomain,
} from '@genpt/iommu-ops';
import { amdv1, PT_FEAT_AMDV1_ENCRYPT_TABLES, PT_FEAT_AMDV1_FORCE_COHERENCE } from '@genpt/fmt-amdv1';
import { PT_FEAT_X86_64_AMD_ENCRYPT_TABLES, x86_64 } from '@genpt/fmt-x86-64';
import type { AmdIommu } from './amd-iommu.js';
import { checkDevice, type IommuDevData } from './device.js';
import type { AmdIommuDriver } from './driver.js';
import { attachDevice, detachDevice } from './attach.js';
import { cloneAliases, setDteEntry, type Amdv1PtInfo } from './dte.js';
import { deviceFlushDte, domainFlushAll, domainFlushComplete, domainFlushPages } from './flush.js';
import { DEV_TABLE_ENTRY_SIZE, DTE_FLAG_HAD, PAGE_MODE_5_LEVEL } from './types.js';

export type PdMode = 'v1' | 'v2';

/** iommu_fault_handler_t: return 0 if the fault was handled (then nothing is logged). */
export type IommuFaultHandler = (domain: ProtectionDomain, dev: IommuDevData, iova: U64, flags: number) => number;

/** The domain's dirty ops (only on domains allocated with IOMMU_HWPT_ALLOC_DIRTY_TRACKING). */
export interface DomainDirtyOps {
  /** IOMMU_PT_DIRTY_OPS: the table's read_and_clear_dirty. */
  readAndClearDirty(iova: U64, size: U64, flags: number, dirty: IommuDirtyBitmap): void;
  /** amd_iommu_set_dirty_tracking() */
  setDirtyTracking(enable: boolean): void;
}

export class ProtectionDomain {
  readonly driver: AmdIommuDriver;
  /** The 16-bit domain ID in DTEs and flushes. */
  readonly id: number;
  readonly pdMode: PdMode;
  /** pdom->lock, also iommupt's top lock. */
  readonly lock = new PtSpinLock();
  /** Attached devices, most recent first (list_add). */
  readonly devList: IommuDevData[] = [];
  /** Per-IOMMU attach counts, in IOMMU index order (xa_for_each): flushes go to each IOMMU here. */
  readonly iommuArray: Array<{ iommu: AmdIommu; refcnt: number }> = [];
  dirtyTracking = false;
  readonly dirtyOps: DomainDirtyOps | null;
  /** The page table (struct pt_iommu). */
  readonly table: PtIommu;
  faultHandler: IommuFaultHandler | null = null;
  private freed = false;
  private readonly syncIova = new U64Pair();
  private readonly syncSize = new U64Pair();

  /** @internal use AmdIommuDriver.domainAllocPaging */
  constructor(driver: AmdIommuDriver, id: number, pdMode: PdMode, dirtyTracking: boolean) {
    this.driver = driver;
    this.id = id;
    this.pdMode = pdMode;
    this.dirtyOps = dirtyTracking
      ? {
          readAndClearDirty: (iova, size, flags, dirty) => this.table.readAndClearDirty(iova, size, flags, dirty),
          setDirtyTracking: (enable) => this.setDirtyTrackingOp(enable),
        }
      : null;
    const domainOps = {
      iotlbSync: (_d: IommuDomain, g: IommuIotlbGather) => this.iotlbSync(g),
      iotlbSyncMap: (_d: IommuDomain, iova: U64, size: U64) => this.iotlbSyncMap(iova, size),
      flushIotlbAll: () => this.flushIotlbAll(),
    };
    const mem = driver.tables;
    if (pdMode === 'v1') {
      // amd_iommu_domain_alloc_paging_v1()
      const features =
        bit(PT_FEAT_DYNAMIC_TOP) |
        bit(PT_FEAT_AMDV1_ENCRYPT_TABLES) |
        bit(PT_FEAT_AMDV1_FORCE_COHERENCE) |
        bit(driver.npCache ? PT_FEAT_FLUSH_RANGE_NO_GAPS : PT_FEAT_FLUSH_RANGE);
      this.table = PtIommu.init(
        amdv1,
        {
          features,
          hwMaxVaszLg2: Math.min(64, (driver.hptLevel - 1) * 9 + 21),
          hwMaxOaszLg2: 52,
          startingLevel: 2,
        },
        {
          mem,
          debug: driver.debug,
          domainOps,
          driverOps: {
            getTopLock: () => this.lock,
            changeTop: (_t, topPaddr, topLevel) => this.changeTop(topPaddr, topLevel),
          },
        },
      ) as unknown as PtIommu;
      // The boot options may narrow the page sizes.
      this.domain.pgsizeBitmap = this.domain.pgsizeBitmap & driver.pgsizeBitmap;
    } else {
      // amd_iommu_domain_alloc_paging_v2(): no sign extension, so the table works with and without PASID.
      const five = driver.gptLevel === PAGE_MODE_5_LEVEL;
      this.table = PtIommu.init(
        x86_64,
        {
          features: bit(PT_FEAT_X86_64_AMD_ENCRYPT_TABLES) | bit(driver.npCache ? PT_FEAT_FLUSH_RANGE_NO_GAPS : PT_FEAT_FLUSH_RANGE),
          hwMaxVaszLg2: five ? 56 : 47,
          hwMaxOaszLg2: 52,
          topLevel: five ? 4 : 3,
        },
        { mem, debug: driver.debug, domainOps },
      ) as unknown as PtIommu;
    }
  }

  /** The iommu_domain the core sees (page sizes, aperture, the ops above). */
  get domain(): IommuDomain {
    return this.table.domain;
  }

  get pgsizeBitmap(): bigint {
    return this.domain.pgsizeBitmap;
  }

  /** pt_iommu_amdv1_hw_info(): the DTE's root and mode. */
  amdv1HwInfo(): Amdv1PtInfo {
    const info = this.table.hwInfo() as { hostPtRoot: number; mode: number };
    return { hostPtRoot: info.hostPtRoot, mode: info.mode };
  }

  /** pt_iommu_x86_64_hw_info().gcr3_pt: the v2 table root for GCR3[0]. */
  gcr3Pt(): number {
    return (this.table.hwInfo() as { gcr3Pt: number }).gcr3Pt;
  }

  /* ---- iommupt driver ops ---- */

  /**
   * amd_iommu_change_top(): point every attached device at the new top
   * (root and mode passed in: the table publishes its new top only after
   * this returns), then flush the DTEs and wait. Called by iommupt with the
   * lock held.
   */
  changeTop(topPaddr: number, topLevel: number): void {
    if (!this.lock.held) throw new Error('change_top without the domain lock');
    for (const dev of this.devList) {
      setDteEntry(dev.iommu, dev, topPaddr, topLevel);
      cloneAliases(dev.iommu, dev); // again, as the kernel does (set_dte_entry already copied them)
    }
    for (const dev of this.devList) deviceFlushDte(dev);
    domainFlushComplete(this);
  }

  /* ---- iommu_domain_ops ---- */

  /** amd_iommu_iotlb_sync(): flush the gathered range, then free the gathered tables. */
  iotlbSync(gather: IommuIotlbGather): void {
    // size = end - start + 1 (mod 2^64)
    const dLo = u64SubLo(gather.endHi, gather.endLo, gather.startHi, gather.startLo);
    const dHi = u64SubHi(gather.endHi, gather.endLo, gather.startHi, gather.startLo);
    const sLo = u64IncLo(dHi, dLo);
    const sHi = u64IncHi(dHi, dLo);
    this.lock.lock();
    try {
      this.flushPages(gather.startHi, gather.startLo, sHi, sLo);
    } finally {
      this.lock.unlock();
    }
    putPagesList(this.driver.tables, gather.freelist);
  }

  /**
   * The flush every sync of this domain goes through
   * (amd_iommu_domain_flush_pages); a test double may override it.
   */
  flushPages(addrHi: number, addrLo: number, sizeHi: number, sizeLo: number): void {
    domainFlushPages(this, addrHi, addrLo, sizeHi, sizeLo);
  }

  /** amd_iommu_iotlb_sync_map(): only an IOMMU that caches not-present entries needs a flush after map. */
  iotlbSyncMap(iova: U64, size: U64): number {
    if (!this.driver.npCache) return 0;
    const a = this.syncIova;
    const s = this.syncSize;
    u64Split(iova, a, 'iova');
    u64Split(size, s, 'size');
    this.lock.lock();
    try {
      this.flushPages(a.hi, a.lo, s.hi, s.lo);
    } finally {
      this.lock.unlock();
    }
    return 0;
  }

  /** amd_iommu_flush_iotlb_all() */
  flushIotlbAll(): void {
    this.withLock(() => domainFlushAll(this));
  }

  /** amd_iommu_enforce_cache_coherency(): FC is set in every v1 leaf; v2 claims it too. */
  enforceCacheCoherency(): boolean {
    return true;
  }

  /* ---- the iommu core's calls, as Linux 7.0 makes them for iommupt ---- */

  /** iommu_map(): map_range, roll back on failure, then iotlb_sync_map. */
  map(iova: U64, paddr: U64, size: U64, prot: number): void {
    this.checkLive();
    iommuMap(this.domain, iova, paddr, size, prot);
  }

  /** iommu_unmap(): unmap_range into a gather, then iotlb_sync. Returns the bytes unmapped. */
  unmap(iova: U64, size: U64): U64 {
    this.checkLive();
    return iommuUnmap(this.domain, iova, size);
  }

  /** The seed's map_pages op (no sync: the caller's core does iotlb_sync_map). */
  mapPages(iova: U64, paddr: U64, pgsize: U64, pgcount: U64, prot: number): U64 {
    this.checkLive();
    return this.table.mapPages(iova, paddr, pgsize, pgcount, prot);
  }

  /** The seed's unmap_pages op: the caller syncs `gather`. */
  unmapPages(iova: U64, pgsize: U64, pgcount: U64, gather: IommuIotlbGather): U64 {
    this.checkLive();
    return this.table.unmapPages(iova, pgsize, pgcount, gather);
  }

  /** iova_to_phys (IOMMU_PT_DOMAIN_OPS) */
  iovaToPhys(iova: U64): U64 {
    this.checkLive();
    return this.table.iovaToPhys(iova);
  }

  /**
   * What iommufd does to read dirty state: the domain's read_and_clear_dirty
   * into a bitmap and gather, then iommu_iotlb_sync of that gather (so the
   * next write sets D again). Returns the dirty [iova, length] ranges.
   */
  readAndClearDirty(iova: U64, size: U64, flags = 0): Array<[U64, U64]> {
    this.checkLive();
    const ops = this.dirtyOps;
    if (ops === null) throw new PtError('EOPNOTSUPP', 'domain was not allocated for dirty tracking');
    const rec = new IovaRangeRecorder();
    const dirty = new IommuDirtyBitmap(rec, new IommuIotlbGather());
    ops.readAndClearDirty(iova, size, flags, dirty);
    iommuIotlbSync(this.domain, dirty.gather);
    return rec.ranges;
  }

  /** set_dirty_tracking (dirty ops only). */
  setDirtyTracking(enable: boolean): void {
    this.checkLive();
    argBool(enable, 'setDirtyTracking', 'enable');
    const ops = this.dirtyOps;
    if (ops === null) throw new PtError('EOPNOTSUPP', 'domain was not allocated for dirty tracking');
    ops.setDirtyTracking(enable);
  }

  /** amd_iommu_set_dirty_tracking(): HAD in every attached DTE, then a full flush so writes mark PTEs. */
  private setDirtyTrackingOp(enable: boolean): void {
    this.withLock(() => {
      if (this.dirtyTracking === enable) return;
      let flush = false;
      for (const dev of this.devList) {
        const pa = dev.iommu.devTable + dev.devid * DEV_TABLE_ENTRY_SIZE;
        const w0 = dev.iommu.mem.read32(pa);
        dev.iommu.mem.write32(pa, enable ? w0 | DTE_FLAG_HAD : w0 & ~DTE_FLAG_HAD);
        deviceFlushDte(dev);
        flush = true;
      }
      if (flush) domainFlushAll(this);
      this.dirtyTracking = enable;
    });
  }

  /* ---- attach / detach ---- */

  /** amd_iommu_attach_device() */
  attachDev(dev: IommuDevData): void {
    this.checkLive();
    checkDevice(this.driver.iommus, dev, 'attachDev');
    if (dev.domain === this) return;
    if (this.dirtyOps !== null && !this.driver.hdSupport(dev.iommu)) {
      throw new PtError('EINVAL', `${dev.name}: its IOMMU cannot track dirty pages`);
    }
    if (dev.domain !== null) detachDevice(dev);
    attachDevice(dev, this);
  }

  /** amd_iommu_domain_free(): devices must be detached; the table is freed and the ID returned. */
  free(): void {
    if (this.freed) return;
    if (this.devList.length !== 0) this.driver.warn(`domain ${this.id} freed with devices attached`);
    this.table.deinit();
    this.driver.pdomIds.free(this.id);
    this.freed = true;
  }

  get isFreed(): boolean {
    return this.freed;
  }

  private checkLive(): void {
    if (this.freed) throw new PtError('ENODEV', `domain ${this.id} was freed`);
  }

  /** spin_lock_irqsave(&pdom->lock) around fn. */
  withLock<T>(fn: () => T): T {
    this.lock.lock();
    try {
      return fn();
    } finally {
      this.lock.unlock();
    }
  }
}
