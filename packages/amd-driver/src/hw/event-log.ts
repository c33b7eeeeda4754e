/**
 * The event log as the hardware writes it: a ring of 16-byte entries in
 * memory at the Event Log Base register's address. The IOMMU writes at the
 * tail and advances the tail register; software consumes from the head. A
 * full ring drops the event and sets EventOverflow.
 *
 * Entry: word 0 DeviceID (15:0) and PASID[19:16] (19:16); word 1 DomainID or
 * PASID[15:0] (15:0), flags (27:16), event code (31:28); words 2-3 the
 * address.
 */
import { RING_ENTRY_BYTES } from './spec.js';
import type { SystemMemory } from './system-memory.js';

/** An event as the hardware logs it (words 0..3 of the entry). */
export interface HwEvent {
  code: number;
  deviceId: number;
  /** DomainID, or PASID when the GN flag says so. */
  domainOrPasid: number;
  flags: number;
  addrHi: number;
  addrLo: number;
}

export interface EventRing {
  basePa: number;
  /** Ring size in bytes. */
  bytes: number;
  head: number;
  tail: number;
}

/** Append an event at the tail; false (and nothing written) when the ring is full. */
export function writeEvent(mem: SystemMemory, ring: EventRing, e: HwEvent): boolean {
  const next = (ring.tail + RING_ENTRY_BYTES) % ring.bytes;
  if (next === ring.head) return false;
  const pa = ring.basePa + ring.tail;
  const pasidHi = (e.domainOrPasid >>> 16) & 0xf;
  mem.write32(pa, (e.deviceId & 0xffff) | (pasidHi << 16));
  mem.write32(pa + 8, e.addrLo);
  mem.write32(pa + 12, e.addrHi);
  // The word holding the event code goes last: software treats code 0 as "not written yet".
  mem.write32(pa + 4, (e.domainOrPasid & 0xffff) | ((e.flags & 0xfff) << 16) | ((e.code & 0xf) << 28));
  ring.tail = next;
  return true;
}
