/**
 * Writing Device Table Entries (iommu.c set_dte_* / update_dte256): build
 * the 256-bit entry for the device's domain, then store it in the order that
 * keeps the IOMMU — which reads the entry in one 256-bit access while the
 * CPU writes two 128-bit halves — from seeing a half-made entry: the half
 * holding V (or GV) is written last when it becomes valid and first when it
 * is cleared. Every update is followed by INVALIDATE_DEVTAB_ENTRY for the
 * device and its aliases and a COMPLETION_WAIT.
 */
import { numberHi, numberLo, u64ToBigInt } from '@genpt/pt-core';
import type { AmdIommu } from './amd-iommu.js';
import type { IommuDevData } from './device.js';
import type { ProtectionDomain } from './domain.js';
import { deviceFlushDte } from './flush.js';
import {
  DEV_TABLE_ENTRY_SIZE,
  DTE_DATA2_NOT_INTR_MASK_HI,
  DTE_DOMID_MASK,
  DTE_FLAG_GIOV_HI,
  DTE_FLAG_GV_HI,
  DTE_FLAG_HAD,
  DTE_FLAG_IOTLB_HI,
  DTE_FLAG_IR_HI,
  DTE_FLAG_IW_HI,
  DTE_FLAG_PPR_HI,
  DTE_FLAG_TV,
  DTE_FLAG_V,
  DTE_GCR3_14_12_SHIFT_HI,
  DTE_GCR3_30_15_SHIFT,
  DTE_GCR3_51_31_SHIFT_HI,
  DTE_GLX_SHIFT_HI,
  DTE_GPT_LEVEL_MASK_HI,
  DTE_GPT_LEVEL_SHIFT_HI,
  DTE_HOST_TRP_HI,
  DTE_HOST_TRP_LO,
  DTE_MODE_MASK,
  DTE_MODE_SHIFT,
  GUEST_PGTABLE_4_LEVEL,
  GUEST_PGTABLE_5_LEVEL,
  PAGE_MODE_5_LEVEL,
} from './types.js';

/**
 * struct dev_table_entry as eight 32-bit words: w[0] = data[0] bits 31:0,
 * w[1] = data[0] bits 63:32, w[2], w[3] = data[1], ... w[6], w[7] = data[3].
 */
export class DevTableEntry {
  readonly w = new Int32Array(8);

  clear(): this {
    this.w.fill(0);
    return this;
  }

  /** data[i] as a bigint, for inspection. */
  data(i: number): bigint {
    return u64ToBigInt(this.w[2 * i + 1]!, this.w[2 * i]!);
  }

  get v(): boolean {
    return (this.w[0]! & DTE_FLAG_V) !== 0;
  }

  get gv(): boolean {
    return (this.w[1]! & DTE_FLAG_GV_HI) !== 0;
  }

  get domid(): number {
    return this.w[2]! & DTE_DOMID_MASK;
  }

  get gptLevel(): number {
    return (this.w[5]! & DTE_GPT_LEVEL_MASK_HI) >>> DTE_GPT_LEVEL_SHIFT_HI;
  }
}

/** The PA of devid's entry. */
function dtePa(iommu: AmdIommu, devid: number): number {
  return iommu.devTable + devid * DEV_TABLE_ENTRY_SIZE;
}

/** get_dte256(): the entry as it is in memory. */
export function getDte256(iommu: AmdIommu, devid: number, out: DevTableEntry): DevTableEntry {
  const pa = dtePa(iommu, devid);
  for (let i = 0; i < 8; i++) out.w[i] = iommu.mem.read32(pa + 4 * i);
  return out;
}

/** write_dte_upper128(): data[2..3], keeping the interrupt remapping bits of data[2]. */
function writeDteUpper128(iommu: AmdIommu, pa: number, n: DevTableEntry): void {
  const mem = iommu.mem;
  const oldW4 = mem.read32(pa + 16);
  const oldW5 = mem.read32(pa + 20);
  n.w[4] = oldW4;
  n.w[5] = (n.w[5]! & DTE_DATA2_NOT_INTR_MASK_HI) | (oldW5 & ~DTE_DATA2_NOT_INTR_MASK_HI);
  for (let i = 4; i < 8; i++) mem.write32(pa + 4 * i, n.w[i]!);
}

/** write_dte_lower128(): data[0..1]. */
function writeDteLower128(iommu: AmdIommu, pa: number, n: DevTableEntry): void {
  for (let i = 0; i < 4; i++) iommu.mem.write32(pa + 4 * i, n.w[i]!);
}

const current = new DevTableEntry();
const cleared = new DevTableEntry();

/** update_dte256(): store `n` as devid's entry in the safe order. */
export function updateDte256(iommu: AmdIommu, devid: number, n: DevTableEntry): void {
  const pa = dtePa(iommu, devid);
  const old = getDte256(iommu, devid, current);
  if (!old.v) {
    // Becoming valid: V goes in last.
    writeDteUpper128(iommu, pa, n);
    writeDteLower128(iommu, pa, n);
    iommu.flushDteSync(devid);
  } else if (!n.v) {
    // Becoming invalid: V goes out first.
    writeDteLower128(iommu, pa, n);
    writeDteUpper128(iommu, pa, n);
    iommu.flushDteSync(devid);
  } else if (!old.gv) {
    writeDteUpper128(iommu, pa, n);
    writeDteLower128(iommu, pa, n);
    iommu.flushDteSync(devid);
  } else if (!n.gv) {
    writeDteLower128(iommu, pa, n);
    writeDteUpper128(iommu, pa, n);
    iommu.flushDteSync(devid);
  } else if (old.gptLevel !== n.gptLevel) {
    // Guest table depth changes: the entry must be off while both halves change.
    writeDteLower128(iommu, pa, cleared.clear());
    iommu.flushDteSync(devid);
    writeDteUpper128(iommu, pa, n);
    writeDteLower128(iommu, pa, n);
    iommu.flushDteSync(devid);
  } else {
    // Same guest depth: only the lower half changes.
    writeDteLower128(iommu, pa, n);
  }
}

const aliasCopy = new DevTableEntry();

/** clone_aliases(): copy the device's entry to every DMA alias DeviceID. */
export function cloneAliases(iommu: AmdIommu, dev: IommuDevData): void {
  for (const alias of dev.aliases) {
    if (alias === dev.devid) continue;
    getDte256(iommu, dev.devid, aliasCopy);
    updateDte256(iommu, alias, aliasCopy);
  }
}

/** amd_iommu_update_dte(): store, copy to aliases, invalidate, wait. */
export function amdIommuUpdateDte(iommu: AmdIommu, dev: IommuDevData, n: DevTableEntry): void {
  updateDte256(iommu, dev.devid, n);
  cloneAliases(iommu, dev);
  deviceFlushDte(dev);
  iommu.completionWait();
}

/** amd_iommu_make_clear_dte(): V set, everything else clear (no IVRS persistent bits in the model). */
export function makeClearDte(_dev: IommuDevData, n: DevTableEntry): void {
  n.clear();
  n.w[0] = DTE_FLAG_V;
}

/** The host table the DTE points at and its levels (pt_iommu_amdv1_hw_info). */
export interface Amdv1PtInfo {
  hostPtRoot: number;
  mode: number;
}

/** amd_iommu_set_dte_v1(): TV, Mode, HAD when tracking dirty, root, IR, IW; DomainID and I. */
export function setDteV1(dev: IommuDevData, domain: ProtectionDomain, domid: number, info: Amdv1PtInfo, n: DevTableEntry): void {
  const root = info.hostPtRoot; // __sme_set() is a no-op without SME
  n.w[0] =
    n.w[0]! |
    DTE_FLAG_TV |
    ((info.mode << DTE_MODE_SHIFT) & DTE_MODE_MASK) |
    (domain.dirtyTracking ? DTE_FLAG_HAD : 0) |
    (numberLo(root) & DTE_HOST_TRP_LO);
  n.w[1] = n.w[1]! | (numberHi(root) & DTE_HOST_TRP_HI) | DTE_FLAG_IR_HI | DTE_FLAG_IW_HI;
  n.w[2] = n.w[2]! | (domid & DTE_DOMID_MASK);
  n.w[3] = n.w[3]! | (dev.atsEnabled ? DTE_FLAG_IOTLB_HI : 0);
}

/** set_dte_gcr3_table(): guest translation through the device's GCR3 table. */
export function setDteGcr3Table(dev: IommuDevData, n: DevTableEntry, gptLevel: number): void {
  const info = dev.gcr3Info;
  const gcr3 = info.gcr3Tbl;
  const v2 = dev.domain !== null && dev.domain.pdMode === 'v2';
  n.w[0] = n.w[0]! | DTE_FLAG_TV;
  n.w[1] =
    n.w[1]! |
    (dev.ppr ? DTE_FLAG_PPR_HI : 0) |
    (v2 ? DTE_FLAG_GIOV_HI : 0) |
    DTE_FLAG_GV_HI |
    ((info.glx & 3) << DTE_GLX_SHIFT_HI) |
    ((Math.floor(gcr3 / 2 ** 12) & 7) << DTE_GCR3_14_12_SHIFT_HI) |
    DTE_FLAG_IR_HI |
    DTE_FLAG_IW_HI;
  n.w[2] = n.w[2]! | (info.domid & DTE_DOMID_MASK) | ((Math.floor(gcr3 / 2 ** 15) & 0xffff) << DTE_GCR3_30_15_SHIFT);
  n.w[3] = n.w[3]! | (dev.atsEnabled ? DTE_FLAG_IOTLB_HI : 0) | ((Math.floor(gcr3 / 2 ** 31) & 0x1fffff) << DTE_GCR3_51_31_SHIFT_HI);
  const level = gptLevel === PAGE_MODE_5_LEVEL ? GUEST_PGTABLE_5_LEVEL : GUEST_PGTABLE_4_LEVEL;
  n.w[5] = n.w[5]! | (level << DTE_GPT_LEVEL_SHIFT_HI);
}

const fresh = new DevTableEntry();

/**
 * set_dte_entry(): rebuild the device's entry for its domain — the GCR3 form
 * when it has a GCR3 table, else the v1 form with the given top (or the
 * table's current one when topPaddr is 0) — store it, and flush the old
 * DomainID's translations if the entry had one.
 */
export function setDteEntry(iommu: AmdIommu, dev: IommuDevData, topPaddr: number, topLevel: number): void {
  const domain = dev.domain;
  if (domain === null) throw new Error('set_dte_entry on a device with no domain');
  const n = fresh;
  makeClearDte(dev, n);
  const oldDomid = iommu.mem.read32(dtePa(iommu, dev.devid) + 8) & DTE_DOMID_MASK;
  if (dev.gcr3Info.gcr3Tbl !== 0) {
    setDteGcr3Table(dev, n, domain.driver.gptLevel);
  } else if (domain.pdMode === 'v1') {
    const info = topPaddr !== 0 ? { hostPtRoot: topPaddr, mode: topLevel + 1 } : domain.amdv1HwInfo();
    setDteV1(dev, domain, domain.id, info, n);
  } else {
    domain.driver.warn(`set_dte_entry: no way to program device ${dev.name}`);
  }
  amdIommuUpdateDte(iommu, dev, n);
  // A previous user of the DTE (a crashed kernel's, for kdump) may have cached translations.
  if (oldDomid) iommu.flushTlbDomid(oldDomid);
}

/** clear_dte_entry(): V only — every DMA of the device is blocked. */
export function clearDteEntry(iommu: AmdIommu, dev: IommuDevData): void {
  const n = fresh;
  makeClearDte(dev, n);
  amdIommuUpdateDte(iommu, dev, n);
}

/** dev_update_dte() */
export function devUpdateDte(dev: IommuDevData, set: boolean): void {
  if (set) setDteEntry(dev.iommu, dev, 0, 0);
  else clearDteEntry(dev.iommu, dev);
}
