/**
 * The device table as the IOMMU reads it: one 256-bit entry per DeviceID,
 * fetched from memory in one access and kept in a DTE cache until an
 * INVALIDATE_DEVTAB_ENTRY (or INVALIDATE_IOMMU_ALL) drops it. Field positions
 * are the specification's, decoded here independently of the driver.
 */
import { u64ToNumber } from '@genpt/pt-core';
import type { SystemMemory } from './system-memory.js';

export const DTE_BYTES = 32;

/** A decoded Device Table Entry. */
export class Dte {
  /** The eight 32-bit words as read (data[0] low word first). */
  readonly raw = new Int32Array(8);
  v = false;
  tv = false;
  /** Host Access/Dirty update: 0 none, 1 A only, 3 A and D. */
  had = 0;
  /** Host translation levels; 0 = no translation. */
  mode = 0;
  /** Host page table root PA. */
  rootPa = 0;
  ppr = false;
  giov = false;
  gv = false;
  glx = 0;
  gcr3Pa = 0;
  ir = false;
  iw = false;
  domainId = 0;
  /** I: the device has an IOTLB (ATS). */
  iotlb = false;
  /** Guest paging levels: 4 or 5. */
  guestLevels = 4;

  /** Decode from eight words. */
  decode(w: ArrayLike<number>): this {
    for (let i = 0; i < 8; i++) this.raw[i] = w[i]! | 0;
    const w0 = w[0]! | 0;
    const w1 = w[1]! | 0;
    const w2 = w[2]! | 0;
    const w3 = w[3]! | 0;
    const w5 = w[5]! | 0;
    this.v = (w0 & 1) !== 0;
    this.tv = (w0 & 2) !== 0;
    this.had = (w0 >>> 7) & 3;
    this.mode = (w0 >>> 9) & 7;
    this.rootPa = u64ToNumber(w1 & 0xfffff, w0 & 0xfffff000);
    this.ppr = (w1 & (1 << 20)) !== 0;
    this.giov = (w1 & (1 << 22)) !== 0;
    this.gv = (w1 & (1 << 23)) !== 0;
    this.glx = (w1 >>> 24) & 3;
    this.ir = (w1 & (1 << 29)) !== 0;
    this.iw = (w1 & (1 << 30)) !== 0;
    this.domainId = w2 & 0xffff;
    this.iotlb = (w3 & 1) !== 0;
    // GCR3 table root: bits 14:12 in data[0] 60:58, 30:15 in data[1] 31:16, 51:31 in data[1] 63:43
    const g14to12 = (w1 >>> 26) & 7;
    const g30to15 = (w2 >>> 16) & 0xffff;
    const g51to31 = (w3 >>> 11) & 0x1fffff;
    this.gcr3Pa = g51to31 * 2 ** 31 + g30to15 * 2 ** 15 + g14to12 * 2 ** 12;
    this.guestLevels = ((w5 >>> 22) & 3) === 1 ? 5 : 4;
    return this;
  }

  sameRaw(other: Dte): boolean {
    for (let i = 0; i < 8; i++) if (this.raw[i] !== other.raw[i]) return false;
    return true;
  }
}

/** Read DeviceID's entry from a device table at basePa. */
export function readDte(mem: SystemMemory, basePa: number, devid: number, out: Dte): Dte {
  const pa = basePa + devid * DTE_BYTES;
  const w = scratchWords;
  for (let i = 0; i < 8; i++) w[i] = mem.read32(pa + 4 * i);
  return out.decode(w);
}

const scratchWords = new Int32Array(8);

/** Entries the IOMMU has fetched, by DeviceID. */
export class DteCache {
  private readonly entries = new Map<number, Dte>();

  get(devid: number): Dte | undefined {
    return this.entries.get(devid);
  }

  set(devid: number, dte: Dte): void {
    this.entries.set(devid, dte);
  }

  invalidate(devid: number): void {
    this.entries.delete(devid);
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
