/**
 * struct iommu_dev_data: what the driver knows about one device behind an
 * IOMMU — its DeviceID and DMA aliases, the domain it is attached to, its
 * ATS and PASID capabilities, and its GCR3 table when it uses one.
 */
import { argInstance, PtError } from '@genpt/pt-core';
import type { AmdIommu } from './amd-iommu.js';
import type { ProtectionDomain } from './domain.js';
import { pciName } from './events.js';
import { Gcr3TblInfo } from './gcr3.js';

export interface DeviceOptions {
  /** The device has an ATS capability (an IOTLB of its own). Default false. */
  ats?: boolean;
  /** ATS invalidation queue depth. Default 32. */
  atsQdep?: number;
  /** PASIDs the device's PASID capability supports (0 = none). Default 0. */
  pasids?: number;
  /** Other DeviceIDs its DMA can carry (PCI DMA aliases). Default none. */
  aliases?: readonly number[];
}

export class IommuDevData {
  readonly iommu: AmdIommu;
  readonly devid: number;
  readonly aliases: readonly number[];
  /** The attached domain (null: blocked). */
  domain: ProtectionDomain | null = null;
  readonly atsSupported: boolean;
  atsEnabled = false;
  readonly atsQdep: number;
  readonly pasidSupported: boolean;
  /** PASIDs the driver will give the device's GCR3 table (0: one). */
  maxPasids = 0;
  /** PRI/IOPF in use (not modelled; always false). */
  readonly ppr = false;
  readonly gcr3Info = new Gcr3TblInfo();

  constructor(iommu: AmdIommu, devid: number, opts: DeviceOptions, gtPprSupported: boolean) {
    this.iommu = iommu;
    this.devid = devid;
    this.aliases = [...(opts.aliases ?? [])];
    // pdev_get_caps() is only consulted when guest translation and PPR are supported.
    this.atsSupported = gtPprSupported && (opts.ats ?? false);
    this.atsQdep = opts.atsQdep ?? 32;
    this.pasidSupported = gtPprSupported && (opts.pasids ?? 0) > 0;
  }

  /** PCI name, e.g. 0000:00:02.0 */
  get name(): string {
    return pciName(this.devid);
  }

  /** pci_for_each_dma_alias(): the device itself, then its aliases. */
  dmaAliases(): number[] {
    return [this.devid, ...this.aliases];
  }
}

/**
 * A device argument: one this driver probed (an IommuDevData still in one of
 * its IOMMUs' device lists), else EINVAL naming the argument. A device from
 * another driver instance would program that instance's device table.
 */
export function checkDevice(iommus: readonly AmdIommu[], dev: unknown, where: string): IommuDevData {
  argInstance(dev, IommuDevData, where, 'dev');
  const d = dev as IommuDevData;
  if (!iommus.includes(d.iommu) || d.iommu.devData.get(d.devid) !== d) {
    throw new PtError('EINVAL', `${where}: dev ${d.name} was not probed by this driver`);
  }
  return d;
}
