/**
 * Attaching and detaching devices (iommu.c attach_device / detach_device):
 * per-IOMMU attach counts (flushes go to every IOMMU a domain is attached
 * through), the GCR3 table of v2 domains, ATS, the domain's device list, and
 * the DTE — written last on attach, blocked first on detach, with the
 * domain's IOTLB entries flushed before the device leaves the list.
 */
import { PtError } from '@genpt/pt-core';
import type { AmdIommu } from './amd-iommu.js';
import type { IommuDevData } from './device.js';
import type { ProtectionDomain } from './domain.js';
import { devUpdateDte } from './dte.js';
import { domainFlushAll } from './flush.js';
import { destroyGcr3Table, initGcr3Table } from './gcr3.js';

/** pdom_attach_iommu(): count the domain's devices per IOMMU. */
function pdomAttachIommu(iommu: AmdIommu, pdom: ProtectionDomain): void {
  pdom.withLock(() => {
    const list = pdom.iommuArray;
    const info = list.find((i) => i.iommu === iommu);
    if (info !== undefined) {
      info.refcnt++;
      return;
    }
    let at = 0;
    while (at < list.length && list[at]!.iommu.index < iommu.index) at++;
    list.splice(at, 0, { iommu, refcnt: 1 });
  });
}

function pdomDetachIommu(iommu: AmdIommu, pdom: ProtectionDomain): void {
  pdom.withLock(() => {
    const list = pdom.iommuArray;
    const at = list.findIndex((i) => i.iommu === iommu);
    if (at < 0) return;
    if (--list[at]!.refcnt === 0) list.splice(at, 1);
  });
}

/** attach_device(): count, GCR3 table for v2, ATS, list, then the DTE. */
export function attachDevice(dev: IommuDevData, pdom: ProtectionDomain): void {
  if (dev.domain !== null) throw new PtError('EBUSY', `${dev.name} is attached`);
  const iommu = dev.iommu;
  pdomAttachIommu(iommu, pdom);
  if (pdom.pdMode === 'v2') {
    const ret = initGcr3Table(dev, pdom);
    if (ret) {
      pdomDetachIommu(iommu, pdom);
      throw PtError.fromErrno(ret, `${dev.name}: GCR3 table`);
    }
  }
  // pdev_enable_caps() / pdev_enable_cap_ats()
  if (dev.atsSupported) dev.atsEnabled = true;
  dev.domain = pdom;
  pdom.withLock(() => pdom.devList.unshift(dev));
  devUpdateDte(dev, true);
}

/**
 * detach_device(): block the device's DTE, flush the domain (the device's
 * translations are tagged with it), unlist, drop the GCR3 table.
 */
export function detachDevice(dev: IommuDevData): void {
  const pdom = dev.domain;
  if (pdom === null) {
    dev.iommu.log.push(`${dev.name}: detach of a device that is not attached`);
    return;
  }
  dev.atsEnabled = false;
  devUpdateDte(dev, false);
  pdom.withLock(() => {
    domainFlushAll(pdom);
    pdom.devList.splice(pdom.devList.indexOf(dev), 1);
  });
  if (pdom.pdMode === 'v2') destroyGcr3Table(dev, pdom);
  dev.domain = null;
  pdomDetachIommu(dev.iommu, pdom);
}
