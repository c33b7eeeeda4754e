/**
 * The IOMMU-facing side of a page table: the iommu_domain the core sees, the
 * driver hooks iommupt calls (pt_iommu_driver_ops), and the DMA device used
 * for cache maintenance of incoherent walkers.
 */
import { hiOfBig, loOfBig, u64ToBigInt, u64Value, type U64 } from '@genpt/pt-core';
import type { IommuIotlbGather } from './gather.js';
import type { PtIommu } from './pt-iommu.js';

/** __IOMMU_DOMAIN_PAGING */
export const IOMMU_DOMAIN_PAGING = 1 << 1;

/** struct iommu_domain_geometry: the IOVA window the domain translates. */
export interface IommuDomainGeometry {
  apertureStart: U64;
  /** Inclusive (the kernel's aperture_end is really "last"). */
  apertureEnd: U64;
  forceAperture: boolean;
}

/** The driver's domain ops the table calls back into (struct iommu_domain_ops). */
export interface IommuDomainOps {
  /**
   * Flush the IOTLB for the gather's range, then free the gather's table
   * pages. Called by iommupt mid-operation (NO_GAPS, freed levels under a
   * map) and by callers after unmap.
   */
  iotlbSync?(domain: IommuDomain, gather: IommuIotlbGather): void;
  /** Make a new mapping visible (drivers whose IOMMU caches non-present entries); 0 or a negative errno. */
  iotlbSyncMap?(domain: IommuDomain, iova: U64, size: U64): number;
  /** Flush the domain's whole IOTLB. */
  flushIotlbAll?(domain: IommuDomain): void;
}

/** struct iommu_domain, as far as iommupt uses it. */
export class IommuDomain {
  type = 0;
  /** Page sizes the domain may use; drivers may narrow the table's after init. */
  pgsizeBitmapHi = 0;
  pgsizeBitmapLo = 0;
  isIommupt = false;
  geometry: IommuDomainGeometry = { apertureStart: 0, apertureEnd: 0, forceAperture: false };
  ops: IommuDomainOps;
  /** The table this domain is built on. */
  table!: PtIommu;

  constructor(ops: IommuDomainOps) {
    this.ops = ops;
  }

  get pgsizeBitmap(): bigint {
    return u64ToBigInt(this.pgsizeBitmapHi, this.pgsizeBitmapLo);
  }

  /** Narrow or set the page sizes map may use (as drivers do with amd_iommu_pgsize_bitmap). */
  set pgsizeBitmap(v: bigint) {
    this.pgsizeBitmapHi = hiOfBig(v);
    this.pgsizeBitmapLo = loOfBig(v);
  }

  get pgsizeBitmapValue(): U64 {
    return u64Value(this.pgsizeBitmapHi, this.pgsizeBitmapLo);
  }
}

/**
 * The lock a driver hands out from get_top_lock (a spinlock in the kernel).
 * Single-threaded JS cannot race, but the model still checks the protocol.
 */
export class PtSpinLock {
  private locked = false;

  lock(): void {
    if (this.locked) throw new Error('PtSpinLock: recursive lock (the kernel would deadlock)');
    this.locked = true;
  }

  unlock(): void {
    if (!this.locked) throw new Error('PtSpinLock: unlock of an unlocked lock');
    this.locked = false;
  }

  get held(): boolean {
    return this.locked;
  }
}

/** struct pt_iommu_driver_ops: needed when the table has DYNAMIC_TOP. */
export interface PtIommuDriverOps {
  /**
   * Point every hardware user of the table at a new top (PA and level)
   * before returning. Called with the get_top_lock lock held.
   */
  changeTop?(table: PtIommu, topPaddr: number, topLevel: number): void;
  /** The lock that serialises top changes against attach/detach. */
  getTopLock?(table: PtIommu): PtSpinLock;
}

/**
 * The DMA device that owns an incoherent walker's tables (the kernel's
 * pt_iommu.iommu_device with iommu_pages_*_incoherent). Required with
 * PT_FEAT_DMA_INCOHERENT.
 */
export interface IommuDevice {
  /** Make a newly allocated table visible to the device; 0 or a negative errno. */
  startIncoherent(pa: number, bytes: number): number;
  /** The table is about to be freed; stop device access to it. */
  stopIncoherent(pa: number, bytes: number): void;
  /** Write back [pa + offset, pa + offset + len) so the walker sees it. */
  flushIncoherent(pa: number, offset: number, len: number): void;
}
