/**
 * Reading the event log (iommu_print_event / amd_iommu_report_page_fault):
 * decode an entry, hand IO_PAGE_FAULTs for memory accesses to the domain's
 * fault handler (report_iommu_fault), log what was not handled, and zero the
 * entry so a stale one is never mistaken for a new one.
 */
import { u64Value, type U64 } from '@genpt/pt-core';
import type { AmdIommu } from './amd-iommu.js';
import {
  EVENT_FLAG_I,
  EVENT_FLAG_RW,
  EVENT_TYPE_CMD_HARD_ERR,
  EVENT_TYPE_DEV_TAB_ERR,
  EVENT_TYPE_ILL_CMD,
  EVENT_TYPE_ILL_DEV,
  EVENT_TYPE_INV_DEV_REQ,
  EVENT_TYPE_INV_PPR_REQ,
  EVENT_TYPE_IO_FAULT,
  EVENT_TYPE_IOTLB_INV_TO,
  EVENT_TYPE_PAGE_TAB_ERR,
  LOOP_TIMEOUT,
} from './types.js';

export const EVENT_NAMES: Readonly<Record<number, string>> = {
  [EVENT_TYPE_ILL_DEV]: 'ILLEGAL_DEV_TABLE_ENTRY',
  [EVENT_TYPE_IO_FAULT]: 'IO_PAGE_FAULT',
  [EVENT_TYPE_DEV_TAB_ERR]: 'DEV_TAB_HARDWARE_ERROR',
  [EVENT_TYPE_PAGE_TAB_ERR]: 'PAGE_TAB_HARDWARE_ERROR',
  [EVENT_TYPE_ILL_CMD]: 'ILLEGAL_COMMAND_ERROR',
  [EVENT_TYPE_CMD_HARD_ERR]: 'COMMAND_HARDWARE_ERROR',
  [EVENT_TYPE_IOTLB_INV_TO]: 'IOTLB_INV_TIMEOUT',
  [EVENT_TYPE_INV_DEV_REQ]: 'INVALID_DEVICE_REQUEST',
  [EVENT_TYPE_INV_PPR_REQ]: 'INVALID_PPR_REQUEST',
};

/** IOMMU_FAULT_READ / IOMMU_FAULT_WRITE, as report_iommu_fault passes them. */
export const IOMMU_FAULT_READ = 0;
export const IOMMU_FAULT_WRITE = 1;

/** An event the driver took off the log. */
export interface AmdIommuEvent {
  type: number;
  name: string;
  deviceId: number;
  /** DomainID (or PASID, for guest faults with GN). */
  domainId: number;
  flags: number;
  address: U64;
  /** A fault handler took it (nothing was logged). */
  handled: boolean;
  /** The log line, when one was written. */
  message: string;
}

/** "ssss:bb:dd.f" of a DeviceID in PCI segment 0. */
export function pciName(devid: number): string {
  const h = (n: number, w: number): string => n.toString(16).padStart(w, '0');
  return `0000:${h(devid >>> 8, 2)}:${h((devid >>> 3) & 0x1f, 2)}.${devid & 7}`;
}

/** Decode, report and clear the event at pa. */
export function printEvent(iommu: AmdIommu, pa: number): AmdIommuEvent {
  const mem = iommu.mem;
  let w1 = mem.read32(pa + 4);
  // An entry whose type is still 0 has not landed yet (a hardware erratum): wait for it.
  for (let count = 0; ((w1 >>> 28) & 0xf) === 0; ) {
    if (++count === LOOP_TIMEOUT) {
      iommu.log.push('No event written to event log');
      return { type: 0, name: 'NONE', deviceId: 0, domainId: 0, flags: 0, address: 0, handled: false, message: '' };
    }
    iommu.udelay();
    w1 = mem.read32(pa + 4);
  }
  const w0 = mem.read32(pa);
  const type = (w1 >>> 28) & 0xf;
  const devid = w0 & 0xffff;
  const pasid = (w0 & 0xf0000) | (w1 & 0xffff);
  const flags = (w1 >>> 16) & 0xfff;
  const address = u64Value(mem.read32(pa + 12), mem.read32(pa + 8));
  const name = EVENT_NAMES[type] ?? 'UNKNOWN';
  const ev: AmdIommuEvent = { type, name, deviceId: devid, domainId: pasid, flags, address, handled: false, message: '' };
  const hex = (v: U64, w = 0): string => '0x' + v.toString(16).padStart(w, '0');

  if (type === EVENT_TYPE_IO_FAULT) {
    reportPageFault(iommu, ev);
  } else {
    ev.message = `Event logged [${name} device=${pciName(devid)} domain=${hex(pasid, 4)} address=${hex(address)} flags=${hex(flags, 4)}]`;
    iommu.log.push(ev.message);
  }
  // Zero the entry so a later poll cannot mistake it for a new one.
  for (let i = 0; i < 16; i += 4) mem.write32(pa + i, 0);
  return ev;
}

/** amd_iommu_report_page_fault() */
function reportPageFault(iommu: AmdIommu, ev: AmdIommuEvent): void {
  const dev = iommu.devData.get(ev.deviceId);
  const hex = (v: U64, w = 0): string => '0x' + v.toString(16).padStart(w, '0');
  const line = `Event logged [IO_PAGE_FAULT device=${pciName(ev.deviceId)} domain=${hex(ev.domainId, 4)} address=${hex(ev.address)} flags=${hex(ev.flags, 4)}]`;
  if (dev !== undefined && (ev.flags & EVENT_FLAG_I) === 0) {
    const domain = dev.domain;
    if (domain === null) {
      ev.message = `Event logged [Device not attached to domain properly] device=${pciName(ev.deviceId)} domain=${hex(ev.domainId, 4)}`;
      iommu.log.push(ev.message);
      return;
    }
    const handler = domain.faultHandler;
    const fault = ev.flags & EVENT_FLAG_RW ? IOMMU_FAULT_WRITE : IOMMU_FAULT_READ;
    // report_iommu_fault(): no handler is -ENOSYS, and unhandled faults are logged
    if (handler !== null && handler(domain, dev, ev.address, fault) === 0) {
      ev.handled = true;
      return;
    }
  }
  ev.message = line;
  iommu.log.push(line);
}
