/**
 * GCR3 tables (per device): 4 KiB tables of 512 entries indexed by PASID
 * bits, 9 per level, each entry `table PA | valid`; the level-0 entry for a
 * PASID holds that PASID's guest page table root. A v2 domain puts its table
 * in PASID 0's entry, which requests without a PASID use (DTE GIOV). Each
 * table also gets its own domain ID, which tags its IOTLB entries.
 */
import { numberHi, numberLo, u64ToNumber } from '@genpt/pt-core';
import type { AmdIommu } from './amd-iommu.js';
import type { IommuDevData } from './device.js';
import type { DomainIds } from './domain-ids.js';
import type { ProtectionDomain } from './domain.js';
import { devFlushPasidAll } from './flush.js';
import { GCR3_VALID } from './types.js';

/** struct gcr3_tbl_info */
export class Gcr3TblInfo {
  /** PA of the root table; 0 when the device has none. */
  gcr3Tbl = 0;
  /** Levels below the root. */
  glx = 0;
  /** The per-device domain ID written into the DTE. */
  domid = 0;
  pasidCnt = 0;
}

/** get_count_order(): ceil(log2(n)). */
function countOrder(n: number): number {
  return n <= 1 ? 0 : Math.ceil(Math.log2(n));
}

/** get_gcr3_levels(): GCR3 levels (minus one) to index `pasids` PASIDs. */
export function getGcr3Levels(pasids: number, maxGlx: number): number {
  if (pasids === -1) return maxGlx;
  const levels = countOrder(pasids);
  return levels ? Math.ceil(levels / 9) - 1 : levels;
}

/** setup_gcr3_table(): 0 or a negative errno. */
export function setupGcr3Table(info: Gcr3TblInfo, iommu: AmdIommu, ids: DomainIds, maxGlx: number, pasids: number): number {
  const levels = getGcr3Levels(pasids, maxGlx);
  if (levels > maxGlx) return -22; // EINVAL
  if (info.gcr3Tbl !== 0) return -16; // EBUSY
  const domid = ids.alloc();
  if (domid <= 0) return -28; // ENOSPC
  info.domid = domid;
  const pa = iommu.tables.alloc(12);
  if (pa < 0) {
    ids.free(domid);
    return -12; // ENOMEM
  }
  info.gcr3Tbl = pa;
  info.glx = levels;
  return 0;
}

/** __get_gcr3_pte(): PA of PASID's level-0 entry, allocating levels on the way if asked; -1 if absent. */
export function getGcr3Pte(iommu: AmdIommu, info: Gcr3TblInfo, pasid: number, alloc: boolean): number {
  const mem = iommu.mem;
  let root = info.gcr3Tbl;
  for (let level = info.glx; ; level--) {
    const pte = root + ((pasid >>> (9 * level)) & 0x1ff) * 8;
    if (level === 0) return pte;
    let lo = mem.read32(pte);
    let hi = mem.read32(pte + 4);
    if ((lo & GCR3_VALID) === 0) {
      if (!alloc) return -1;
      const page = iommu.tables.alloc(12);
      if (page < 0) return -1;
      lo = numberLo(page) | GCR3_VALID;
      hi = numberHi(page);
      mem.write32(pte + 4, hi);
      mem.write32(pte, lo);
    }
    root = u64ToNumber(hi & 0xfffff, lo & ~0xfff);
  }
}

/** update_gcr3(): set or clear PASID's root, then flush that PASID. */
export function updateGcr3(dev: IommuDevData, pasid: number, gcr3: number, set: boolean): number {
  const iommu = dev.iommu;
  const pte = getGcr3Pte(iommu, dev.gcr3Info, pasid, true);
  if (pte < 0) return -12; // ENOMEM
  const mem = iommu.mem;
  if (set) {
    const page = gcr3 - (gcr3 % 4096);
    mem.write32(pte + 4, numberHi(page));
    mem.write32(pte, numberLo(page) | GCR3_VALID);
  } else {
    mem.write32(pte, 0);
    mem.write32(pte + 4, 0);
  }
  devFlushPasidAll(dev, pasid);
  return 0;
}

/** free_gcr3_table(): the lower levels, the domain ID, then the root. */
export function freeGcr3Table(iommu: AmdIommu, ids: DomainIds, info: Gcr3TblInfo): void {
  const freeLevel = (table: number, level: number): void => {
    if (level === 0) return;
    for (let i = 0; i < 512; i++) {
      const lo = iommu.mem.read32(table + i * 8);
      if ((lo & GCR3_VALID) === 0) continue;
      const hi = iommu.mem.read32(table + i * 8 + 4);
      const child = u64ToNumber(hi & 0xfffff, lo & ~0xfff);
      freeLevel(child, level - 1);
      iommu.tables.free(child);
    }
  };
  freeLevel(info.gcr3Tbl, info.glx);
  info.glx = 0;
  ids.free(info.domid);
  info.domid = 0;
  iommu.tables.free(info.gcr3Tbl);
  info.gcr3Tbl = 0;
}

/**
 * init_gcr3_table(): a GCR3 table for the device (as many PASIDs as it may
 * use) and, for a v2 domain, the domain's table in PASID 0.
 */
export function initGcr3Table(dev: IommuDevData, pdom: ProtectionDomain): number {
  const driver = pdom.driver;
  const ret = setupGcr3Table(dev.gcr3Info, dev.iommu, driver.pdomIds, driver.maxGlxVal, dev.maxPasids > 0 ? dev.maxPasids : 1);
  if (ret) return ret;
  if (pdom.pdMode !== 'v2') return 0;
  const gcr3Pt = pdom.gcr3Pt();
  const r = updateGcr3(dev, 0, gcr3Pt, true);
  if (r) freeGcr3Table(dev.iommu, driver.pdomIds, dev.gcr3Info);
  return r;
}

/** destroy_gcr3_table() */
export function destroyGcr3Table(dev: IommuDevData, pdom: ProtectionDomain): void {
  if (pdom.pdMode === 'v2') updateGcr3(dev, 0, 0, false);
  if (dev.gcr3Info.gcr3Tbl === 0) return;
  freeGcr3Table(dev.iommu, pdom.driver.pdomIds, dev.gcr3Info);
}
