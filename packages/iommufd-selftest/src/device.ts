/**
 * Mock devices and their attachment (drivers/iommu/iommufd/device.c and the
 * selftest's MOCK_DOMAIN ops): a device bound to iommufd attaches to a HWPT,
 * or to an IOAS, where it shares any automatic HWPT whose domain accepts it
 * and otherwise gets a new one. Replacing moves it; the last device leaving
 * an automatic HWPT destroys it.
 */
import { fail, errnoOf } from './errors.js';
import { allocMockDomain, HwptPaging, type HwptUserDataArgs } from './hwpt.js';
import type { IommufdIoas } from './ioas.js';
import { IommufdObject, type ObjectTable } from './objects.js';
import { MOCK_FLAGS_DEVICE_NO_DIRTY, MOCK_FLAGS_DEVICE_PASID, MOCK_PASID_WIDTH } from './uapi.js';

/** struct mock_dev */
export class MockDev {
  readonly flags: number;

  constructor(flags: number) {
    if (flags & ~(MOCK_FLAGS_DEVICE_NO_DIRTY | MOCK_FLAGS_DEVICE_PASID)) fail('EINVAL', 'unknown device flags');
    this.flags = flags;
  }

  /**
   * mock_domain_nop_attach(): a device that cannot track dirty pages refuses
   * a dirty-tracking domain; PASID attachments (set_dev_pasid) accept any.
   */
  attach(hwpt: HwptPaging, pasid: number): void {
    if (pasid !== 0) return;
    if (hwpt.domain.hasDirtyOps && this.flags & MOCK_FLAGS_DEVICE_NO_DIRTY) fail('EINVAL', 'device cannot track dirty pages');
  }

  /** dev->iommu->max_pasids: 2^MOCK_PASID_WIDTH for a PASID capable mock device. */
  get maxPasids(): number {
    return this.flags & MOCK_FLAGS_DEVICE_PASID ? 2 ** MOCK_PASID_WIDTH : 0;
  }

  /** mock_domain_capable(IOMMU_CAP_DIRTY_TRACKING) */
  get dirtyCapable(): boolean {
    return !(this.flags & MOCK_FLAGS_DEVICE_NO_DIRTY);
  }
}

/** IOMMU_NO_PASID: the device's own (RID) attachment. */
export const IOMMU_NO_PASID = 0;

/** struct iommufd_device: a bound device (the id user space allocates HWPTs with). */
export class IommufdDevice extends IommufdObject {
  readonly type = 'device' as const;
  readonly dev: MockDev;
  readonly objects: ObjectTable;
  /** The HWPT attached per PASID (IOMMU_NO_PASID for the device itself). */
  readonly attached = new Map<number, HwptPaging>();

  constructor(objects: ObjectTable, dev: MockDev) {
    super();
    this.objects = objects;
    this.dev = dev;
    // The binding driver holds a reference until unbind.
    this.users++;
  }

  /** The HWPT attached for IOMMU_NO_PASID. */
  get hwpt(): HwptPaging | null {
    return this.attached.get(IOMMU_NO_PASID) ?? null;
  }

  destroy(): void {
    // Unbind happens through the selftest object; nothing else to release.
  }

  /**
   * iommufd_hwpt_pasid_compat(): a HWPT used with PASIDs must have been
   * allocated for it, and the device's own attachment must allow PASIDs
   * once any PASID is attached.
   */
  private pasidCompat(hwpt: HwptPaging, pasid: number): void {
    if (pasid === IOMMU_NO_PASID) {
      if (!hwpt.pasidCompat && [...this.attached.keys()].some((p) => p !== IOMMU_NO_PASID)) fail('EINVAL', 'PASIDs attached');
    } else {
      if (!hwpt.pasidCompat) fail('EINVAL', 'HWPT not allocated for PASID use');
      const rid = this.attached.get(IOMMU_NO_PASID);
      if (rid !== undefined && !rid.pasidCompat) fail('EINVAL', 'device attachment does not allow PASIDs');
      if (pasid >= this.dev.maxPasids && this.dev.maxPasids > 0) fail('EINVAL', 'PASID out of range');
    }
  }

  /** iommufd_hw_pagetable_attach() */
  private attachHwpt(hwpt: HwptPaging, pasid: number): void {
    const old = this.attached.get(pasid);
    if (old !== undefined) fail(old === hwpt ? 'EBUSY' : 'EINVAL', 'already attached');
    this.pasidCompat(hwpt, pasid);
    this.dev.attach(hwpt, pasid);
    this.attached.set(pasid, hwpt);
    hwpt.users++;
    this.users++;
  }

  /** iommufd_device_do_replace(): returns the HWPT it left, for the caller to put. */
  private replaceHwpt(hwpt: HwptPaging, pasid: number): HwptPaging | null {
    const old = this.attached.get(pasid);
    if (old === undefined) fail('EINVAL', 'not attached');
    if (old === hwpt) return null;
    this.pasidCompat(hwpt, pasid);
    this.dev.attach(hwpt, pasid);
    this.attached.set(pasid, hwpt);
    hwpt.users++;
    return old;
  }

  /** iommufd_hw_pagetable_put(): the last user of an automatic HWPT destroys it. */
  private putHwpt(hwpt: HwptPaging): void {
    if (hwpt.autoDomain) this.objects.putAndTryDestroy(hwpt);
    else hwpt.users--;
  }

  /**
   * iommufd_device_auto_get_domain(): reuse an automatic HWPT of the IOAS
   * that takes the device (EINVAL means "not compatible, try the next"),
   * else make one. Returns the HWPT id.
   */
  private autoGetDomain(ioas: IommufdIoas, pasid: number, replace: boolean): number {
    for (const hwpt of [...ioas.hwptList]) {
      if (!hwpt.autoDomain) continue;
      try {
        if (replace) {
          const old = this.replaceHwpt(hwpt, pasid);
          if (old) this.putHwpt(old);
        } else {
          this.attachHwpt(hwpt, pasid);
        }
        return hwpt.id;
      } catch (e) {
        if (errnoOf(e) === 'EINVAL') continue;
        throw e;
      }
    }
    const hwpt = this.objects.alloc(new HwptPaging(ioas, allocMockDomain(this.dev, 0, null), 0));
    try {
      // Attaching proper creates the domain before filling it.
      if (!replace) this.attachHwpt(hwpt, pasid);
      try {
        hwpt.link();
      } catch (e) {
        if (!replace) this.detachHwpt(pasid);
        throw e;
      }
      if (replace) {
        const old = this.replaceHwpt(hwpt, pasid);
        if (old) this.putHwpt(old);
      }
    } catch (e) {
      this.objects.abort(hwpt);
      throw e;
    }
    hwpt.autoDomain = true;
    this.objects.finalize(hwpt);
    return hwpt.id;
  }

  /**
   * iommufd_device_change_pt(): attach (or replace) a PASID of the device to
   * a HWPT or an IOAS id; returns the HWPT id.
   */
  changePt(ptId: number, replace: boolean, pasid = IOMMU_NO_PASID): number {
    const obj = this.objects.get(ptId);
    if (obj instanceof HwptPaging) {
      if (replace) {
        const old = this.replaceHwpt(obj, pasid);
        if (old) this.putHwpt(old);
      } else {
        this.attachHwpt(obj, pasid);
      }
      return obj.id;
    }
    if (obj.type === 'ioas') return this.autoGetDomain(obj as IommufdIoas, pasid, replace);
    fail('EINVAL', 'not an IOAS or HWPT');
  }

  /** iommufd_hw_pagetable_detach() without the put. */
  private detachHwpt(pasid: number): HwptPaging | null {
    const hwpt = this.attached.get(pasid);
    if (hwpt === undefined) return null;
    this.attached.delete(pasid);
    this.users--;
    return hwpt;
  }

  /** iommufd_device_detach() */
  detach(pasid = IOMMU_NO_PASID): void {
    const hwpt = this.detachHwpt(pasid);
    if (hwpt !== null) this.putHwpt(hwpt);
  }

  /** IOMMU_HWPT_ALLOC on an IOAS for this device. */
  allocHwpt(ioas: IommufdIoas, flags: number, userData: HwptUserDataArgs | null): HwptPaging {
    const hwpt = this.objects.alloc(new HwptPaging(ioas, allocMockDomain(this.dev, flags, userData), flags));
    try {
      hwpt.link();
    } catch (e) {
      this.objects.abort(hwpt);
      throw e;
    }
    return hwpt;
  }
}

/**
 * The selftest object MOCK_DOMAIN returns as stdev_id: owns the mock device
 * and its binding; destroying it detaches and unbinds.
 */
export class SelftestDevice extends IommufdObject {
  readonly type = 'selftest' as const;
  idev: IommufdDevice | null = null;
  readonly objects: ObjectTable;

  constructor(objects: ObjectTable) {
    super();
    this.objects = objects;
  }

  destroy(): void {
    const idev = this.idev;
    if (idev === null) return;
    for (const pasid of [...idev.attached.keys()]) idev.detach(pasid);
    // iommufd_device_unbind(): drop the driver's reference and remove the device object.
    idev.users--;
    this.objects.remove(idev.id);
    this.idev = null;
  }
}
