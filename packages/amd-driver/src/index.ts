/**
 * @genpt/amd-driver: a model of Linux's AMD IOMMU driver on iommupt
 * (protection domains with AMDv1 or x86-64 tables, Device Table Entries,
 * change_top, command-buffer invalidation, dirty tracking) and of the IOMMU
 * hardware it programs (device table, command processor, table walkers
 * written from the specification, IOTLB, event log), sharing one physical
 * memory so a device's DMA goes through exactly the tables the driver built.
 */
export { IOMMU_READ, IOMMU_WRITE, IOMMU_DIRTY_NO_CLEAR } from '@genpt/pt-core';
export * from './system.js';

export * from './driver/types.js';
export { AmdIommu, type AmdIommuMmio } from './driver/amd-iommu.js';
export { AmdIommuDriver, type AmdIommuDriverOptions } from './driver/driver.js';
export { IommuDevData, type DeviceOptions } from './driver/device.js';
export { DomainIds } from './driver/domain-ids.js';
export { ProtectionDomain, type PdMode, type DomainDirtyOps, type IommuFaultHandler } from './driver/domain.js';
export { attachDevice, detachDevice } from './driver/attach.js';
export { DevTableEntry, getDte256, type Amdv1PtInfo } from './driver/dte.js';
export {
  IommuCmd,
  buildCompletionWait,
  buildInvAddress,
  buildInvAll,
  buildInvDte,
  buildInvIommuPages,
  buildInvIotlbPages,
  buildInvIrt,
} from './driver/commands.js';
export { domainFlushPages, domainFlushAll, domainFlushComplete, deviceFlushDte } from './driver/flush.js';
export { Gcr3TblInfo, getGcr3Levels } from './driver/gcr3.js';
export { EVENT_NAMES, pciName, IOMMU_FAULT_READ, IOMMU_FAULT_WRITE, type AmdIommuEvent } from './driver/events.js';

export { SystemMemory } from './hw/system-memory.js';
export { AmdIommuHw, type AmdIommuHwOptions, type DmaFault, type DmaResult } from './hw/iommu-hw.js';
export { MmioRegisters, type AmdIommuHwFeatures, type HwFeatures } from './hw/mmio.js';
export { Translator, Translation, type StaleHit } from './hw/translator.js';
export { Dte, DteCache, readDte } from './hw/device-table.js';
export { Iotlb, hostTag, guestTag, type IotlbEntry, type PdeEntry } from './hw/iotlb.js';
export { decodeInvAddress, executeCommand, type HwCommand } from './hw/command-buffer.js';
export { walkV1 } from './hw/walker-v1.js';
export { walkV2, walkGcr3 } from './hw/walker-v2.js';
export * from './hw/walk-result.js';
export * as hwSpec from './hw/spec.js';
