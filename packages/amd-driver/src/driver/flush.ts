/**
 * Turning "this range of the domain changed" into commands (iommu.c
 * domain_flush_pages_* / device_flush_*): INVALIDATE_IOMMU_PAGES for the
 * domain on every IOMMU it is attached through (v1: the domain's ID; v2: each
 * device's GCR3 domain ID with GN and PASID 0), INVALIDATE_IOTLB_PAGES for
 * ATS devices, then COMPLETION_WAIT on each IOMMU. Under NpCache (a virtual
 * IOMMU) the range is split into naturally aligned blocks so the hypervisor
 * is not asked to re-sync pages that did not change.
 */
import { bitHi, bitLo, ffs64, u64AddHiOfSum, u64AddLoSum, u64Log2, u64SubHi, u64SubLo } from '@genpt/pt-core';
import { buildInvIommuPages, buildInvIotlbPages, IommuCmd } from './commands.js';
import type { IommuDevData } from './device.js';
import type { ProtectionDomain } from './domain.js';
import { CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI, CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO, IOMMU_NO_PASID } from './types.js';

const cmd = new IommuCmd();

function assertLocked(pdom: ProtectionDomain): void {
  if (!pdom.lock.held) throw new Error('domain flush without the protection domain lock held');
}

/** device_flush_iotlb(): invalidate a range in the device's own IOTLB (ATS). */
export function deviceFlushIotlb(
  dev: IommuDevData,
  addrHi: number,
  addrLo: number,
  sizeHi: number,
  sizeLo: number,
  pasid: number,
  gn: boolean,
): number {
  buildInvIotlbPages(cmd, dev.devid, dev.atsQdep, addrHi, addrLo, sizeHi, sizeLo, pasid, gn);
  return dev.iommu.queueCommand(cmd);
}

/**
 * device_flush_dte(): INVALIDATE_DEVTAB_ENTRY for the device and each of its
 * DMA aliases, and a full flush of its IOTLB when ATS is on.
 */
export function deviceFlushDte(dev: IommuDevData): number {
  const iommu = dev.iommu;
  for (const alias of dev.dmaAliases()) {
    const ret = iommu.flushDte(alias);
    if (ret) return ret;
  }
  if (dev.atsEnabled) return deviceFlushIotlb(dev, 0, 0, -1, -1, IOMMU_NO_PASID, false);
  return 0;
}

/** domain_flush_pages_v2(): per device, its GCR3 domain ID, PASID 0, GN. */
function domainFlushPagesV2(pdom: ProtectionDomain, aHi: number, aLo: number, sHi: number, sLo: number): number {
  let ret = 0;
  for (const dev of pdom.devList) {
    buildInvIommuPages(cmd, aHi, aLo, sHi, sLo, dev.gcr3Info.domid, IOMMU_NO_PASID, true);
    ret |= dev.iommu.queueCommand(cmd);
  }
  return ret;
}

/** domain_flush_pages_v1(): the domain's ID on every IOMMU it uses. */
function domainFlushPagesV1(pdom: ProtectionDomain, aHi: number, aLo: number, sHi: number, sLo: number): number {
  let ret = 0;
  buildInvIommuPages(cmd, aHi, aLo, sHi, sLo, pdom.id, IOMMU_NO_PASID, false);
  const list = pdom.iommuArray;
  for (let i = 0; i < list.length; i++) ret |= list[i]!.iommu.queueCommand(cmd);
  return ret;
}

/** __domain_flush_pages(): the IOMMU TLBs, then the device IOTLBs of ATS devices. */
function domainFlushPagesOnce(pdom: ProtectionDomain, aHi: number, aLo: number, sHi: number, sLo: number): void {
  assertLocked(pdom);
  const gn = pdom.pdMode === 'v2';
  let ret = gn ? domainFlushPagesV2(pdom, aHi, aLo, sHi, sLo) : domainFlushPagesV1(pdom, aHi, aLo, sHi, sLo);
  const devs = pdom.devList;
  for (let i = 0; i < devs.length; i++) {
    if (devs[i]!.atsEnabled) ret |= deviceFlushIotlb(devs[i]!, aHi, aLo, sHi, sLo, IOMMU_NO_PASID, gn);
  }
  if (ret) pdom.driver.warn(`domain ${pdom.id}: flush command failed (${ret})`);
}

/**
 * amd_iommu_domain_flush_pages(): invalidate [address, address + size) of
 * the domain and wait for it. Caller holds the domain lock.
 */
export function domainFlushPages(pdom: ProtectionDomain, aHi: number, aLo: number, sHi: number, sLo: number): void {
  assertLocked(pdom);
  if (!pdom.driver.npCache) {
    domainFlushPagesOnce(pdom, aHi, aLo, sHi, sLo);
    domainFlushComplete(pdom);
    return;
  }
  // Naturally aligned pieces: each the smaller of the address's alignment and the largest power of two in size.
  while ((sHi | sLo) !== 0) {
    const sizeAlign = u64Log2(sHi, sLo);
    const minAlign = (aHi | aLo) !== 0 ? Math.min(ffs64(aHi, aLo), sizeAlign) : sizeAlign;
    const fHi = bitHi(minAlign);
    const fLo = bitLo(minAlign);
    domainFlushPagesOnce(pdom, aHi, aLo, fHi, fLo);
    // address += flush size; size -= flush size
    const sum = u64AddLoSum(aLo, fLo);
    aHi = u64AddHiOfSum(sum, aHi, fHi);
    aLo = sum | 0;
    const dHi = u64SubHi(sHi, sLo, fHi, fLo);
    sLo = u64SubLo(sHi, sLo, fHi, fLo);
    sHi = dHi;
  }
  domainFlushComplete(pdom);
}

/** domain_flush_complete(): COMPLETION_WAIT on every IOMMU of the domain. */
export function domainFlushComplete(pdom: ProtectionDomain): void {
  assertLocked(pdom);
  const list = pdom.iommuArray;
  for (let i = 0; i < list.length; i++) list[i]!.iommu.completionWait();
}

/** amd_iommu_domain_flush_all(): the whole domain, directory entries included. */
export function domainFlushAll(pdom: ProtectionDomain): void {
  domainFlushPages(pdom, 0, 0, CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI, CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO);
}

/** amd_iommu_dev_flush_pasid_pages(): one PASID of one device's GCR3 domain, then wait. */
export function devFlushPasidPages(dev: IommuDevData, pasid: number, aHi: number, aLo: number, sHi: number, sLo: number): void {
  const iommu = dev.iommu;
  buildInvIommuPages(cmd, aHi, aLo, sHi, sLo, dev.gcr3Info.domid, pasid, true);
  iommu.queueCommand(cmd);
  if (dev.atsEnabled) deviceFlushIotlb(dev, aHi, aLo, sHi, sLo, pasid, true);
  iommu.completionWait();
}

/** dev_flush_pasid_all() */
export function devFlushPasidAll(dev: IommuDevData, pasid: number): void {
  devFlushPasidPages(dev, pasid, 0, 0, CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI, CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO);
}
