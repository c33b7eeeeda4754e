/**
 * The IOMMU's register file: what it implements (EFR, the NpCache bit of
 * the capability header), where the device table and the command and event
 * rings are (base registers carry the PA in bits 51:12 and the size in the
 * low bits or in bits 59:56), the control and status registers, and the
 * ring head/tail pointers (byte offsets in bits 18:4).
 */
import { hiOfBig, loOfBig, PtError, u64ToBigInt, u64ToNumber } from '@genpt/pt-core';
import type { EventRing } from './event-log.js';
import {
  CAP_NPCACHE,
  CTRL_CMDBUF_EN,
  CTRL_EVT_LOG_EN,
  EFR_GATS_SHIFT,
  EFR_GLX_SHIFT,
  EFR_GT,
  EFR_HATS_SHIFT,
  EFR_HI_EPHSUP,
  EFR_HI_GIOSUP,
  EFR_HI_HASUP,
  EFR_HI_HDSUP,
  EFR_IA,
  EFR_PPR,
  MMIO_CMDBUF_BASE,
  MMIO_CMD_HEAD,
  MMIO_CMD_TAIL,
  MMIO_CONTROL,
  MMIO_DEVTAB_BASE,
  MMIO_EFR,
  MMIO_EFR2,
  MMIO_EVTLOG_BASE,
  MMIO_EVT_HEAD,
  MMIO_EVT_TAIL,
  MMIO_STATUS,
  RING_ENTRY_BYTES,
  STATUS_CMDBUF_RUN,
  STATUS_EVT_RUN,
  STATUS_W1C,
} from './spec.js';

/** What the IOMMU implements (it shows in the EFR and the capability header). */
export interface AmdIommuHwFeatures {
  /** EFR.HATS: host tables of 4 + hats levels (0 -> 48-bit, 2 -> 64-bit IOVA); 3 = no host translation. Default 0. */
  hats?: number;
  /** EFR.GATS: 0 = 4-level, 1 = 5-level guest tables. Default 0. */
  gats?: number;
  /** EFR.GLX: GCR3 table levels supported, minus one. Default 1. */
  glx?: number;
  /** EFR.PASmax: PASID width minus one. Default 15. */
  pasmax?: number;
  /** Guest translation (v2 tables). Default true. */
  gt?: boolean;
  /** Guest I/O protection: v2 tables for requests without PASID (GIOV). Default true. */
  giosup?: boolean;
  /** Peripheral page requests. Default true. */
  ppr?: boolean;
  /** Enhanced PPR handling. Default true. */
  ephsup?: boolean;
  /** INVALIDATE_IOMMU_ALL. Default true. */
  ia?: boolean;
  /** Hardware updates of the host tables' Accessed bit. Default true. */
  hasup?: boolean;
  /** Hardware updates of the host tables' Dirty bit (dirty tracking). Default true. */
  hdsup?: boolean;
  /** The IOMMU caches not-present translations (as virtual IOMMUs do). Default false. */
  npCache?: boolean;
}

export type HwFeatures = Readonly<Required<AmdIommuHwFeatures>>;

/** Fill in defaults and check field ranges. */
export function resolveFeatures(f: AmdIommuHwFeatures): HwFeatures {
  const ft = Object.freeze({
    hats: f.hats ?? 0,
    gats: f.gats ?? 0,
    glx: f.glx ?? 1,
    pasmax: f.pasmax ?? 15,
    gt: f.gt ?? true,
    giosup: f.giosup ?? true,
    ppr: f.ppr ?? true,
    ephsup: f.ephsup ?? true,
    ia: f.ia ?? true,
    hasup: f.hasup ?? true,
    hdsup: f.hdsup ?? true,
    npCache: f.npCache ?? false,
  });
  for (const [k, max] of [
    ['hats', 3],
    ['gats', 2],
    ['glx', 3],
    ['pasmax', 31],
  ] as const) {
    if (!Number.isInteger(ft[k]) || ft[k] < 0 || ft[k] > max) throw new PtError('EINVAL', `feature ${k} = ${ft[k]}`);
  }
  return ft;
}

const PTR_MASK = 0x7fff0;

/** PA in bits 51:12 of a base register. */
export function ringPa(hi: number, lo: number): number {
  return u64ToNumber(hi & 0xfffff, lo & 0xfffff000);
}

/** Bytes of a command or event ring from its base register's length field (bits 59:56). */
export function ringBytes(hi: number): number {
  const lg2 = (hi >>> 24) & 0xf;
  return lg2 < 8 ? 0 : 2 ** lg2 * RING_ENTRY_BYTES;
}

export class MmioRegisters {
  readonly efrHi: number;
  readonly efrLo: number;
  readonly capHeader: number;
  devtabHi = 0;
  devtabLo = 0;
  cmdBaseHi = 0;
  cmdBaseLo = 0;
  controlHi = 0;
  controlLo = 0;
  cmdHead = 0;
  cmdTail = 0;
  status = 0;
  /** The event ring: base and size from its register, head and tail pointers. */
  readonly evtRing: EventRing = { basePa: 0, bytes: 0, head: 0, tail: 0 };
  private evtBaseHi = 0;
  private evtBaseLo = 0;

  constructor(ft: HwFeatures) {
    this.efrLo =
      (ft.ppr ? EFR_PPR : 0) |
      (ft.gt ? EFR_GT : 0) |
      (ft.ia ? EFR_IA : 0) |
      (ft.hats << EFR_HATS_SHIFT) |
      (ft.gats << EFR_GATS_SHIFT) |
      (ft.glx << EFR_GLX_SHIFT);
    this.efrHi =
      ft.pasmax |
      (ft.giosup ? EFR_HI_GIOSUP : 0) |
      (ft.hasup ? EFR_HI_HASUP : 0) |
      (ft.ephsup ? EFR_HI_EPHSUP : 0) |
      (ft.hdsup ? EFR_HI_HDSUP : 0);
    this.capHeader = ft.npCache ? CAP_NPCACHE : 0;
  }

  /** A control register bit (low word) is set. */
  enabled(ctrl: number): boolean {
    return (this.controlLo & ctrl) !== 0;
  }

  get devTablePa(): number {
    return ringPa(this.devtabHi, this.devtabLo);
  }

  /** DeviceIDs the device table holds (its size field counts 4 KiB pages minus one). */
  get devTableEntries(): number {
    return (((this.devtabLo & 0x1ff) + 1) * 4096) / 32;
  }

  get cmdRingPa(): number {
    return ringPa(this.cmdBaseHi, this.cmdBaseLo);
  }

  get cmdRingBytes(): number {
    return ringBytes(this.cmdBaseHi);
  }

  /** 32-bit read (head/tail/status registers, or a half of a 64-bit one). */
  readl(offset: number): number {
    switch (offset) {
      case MMIO_CMD_HEAD:
        return this.cmdHead;
      case MMIO_CMD_TAIL:
        return this.cmdTail;
      case MMIO_EVT_HEAD:
        return this.evtRing.head;
      case MMIO_EVT_TAIL:
        return this.evtRing.tail;
      case MMIO_STATUS:
        return this.status;
      default: {
        const v = this.readq(offset & ~7);
        return offset & 4 ? hiOfBig(v) : loOfBig(v);
      }
    }
  }

  /** 32-bit write. */
  writel(offset: number, value: number): void {
    switch (offset) {
      case MMIO_CMD_HEAD:
        this.cmdHead = value & PTR_MASK;
        return;
      case MMIO_CMD_TAIL:
        this.cmdTail = value & PTR_MASK;
        return;
      case MMIO_EVT_HEAD:
        this.evtRing.head = value & PTR_MASK;
        return;
      case MMIO_EVT_TAIL:
        // Software may only move the tail while logging is off.
        if (!this.enabled(CTRL_EVT_LOG_EN)) this.evtRing.tail = value & PTR_MASK;
        return;
      case MMIO_STATUS:
        this.status &= ~(value & STATUS_W1C);
        return;
      default:
        throw new RangeError(`writel to MMIO 0x${offset.toString(16)} (use writeq)`);
    }
  }

  /** 64-bit read. */
  readq(offset: number): bigint {
    switch (offset) {
      case MMIO_DEVTAB_BASE:
        return u64ToBigInt(this.devtabHi, this.devtabLo);
      case MMIO_CMDBUF_BASE:
        return u64ToBigInt(this.cmdBaseHi, this.cmdBaseLo);
      case MMIO_EVTLOG_BASE:
        return u64ToBigInt(this.evtBaseHi, this.evtBaseLo);
      case MMIO_CONTROL:
        return u64ToBigInt(this.controlHi, this.controlLo);
      case MMIO_EFR:
        return u64ToBigInt(this.efrHi, this.efrLo);
      case MMIO_EFR2:
        return 0n;
      case MMIO_CMD_HEAD:
      case MMIO_CMD_TAIL:
      case MMIO_EVT_HEAD:
      case MMIO_EVT_TAIL:
      case MMIO_STATUS:
        return BigInt(this.readl(offset) >>> 0);
      default:
        return 0n;
    }
  }

  /** 64-bit write. */
  writeq(offset: number, value: bigint): void {
    const hi = hiOfBig(value);
    const lo = loOfBig(value);
    switch (offset) {
      case MMIO_DEVTAB_BASE:
        this.devtabHi = hi;
        this.devtabLo = lo;
        return;
      case MMIO_CMDBUF_BASE:
        this.cmdBaseHi = hi;
        this.cmdBaseLo = lo;
        return;
      case MMIO_EVTLOG_BASE:
        this.evtBaseHi = hi;
        this.evtBaseLo = lo;
        this.evtRing.basePa = ringPa(hi, lo);
        this.evtRing.bytes = ringBytes(hi);
        return;
      case MMIO_CONTROL:
        this.setControl(hi, lo);
        return;
      case MMIO_EFR:
      case MMIO_EFR2:
        return; // read-only
      default:
        this.writel(offset, lo);
    }
  }

  /** Enabling the command buffer or event log starts it running; disabling stops it. */
  private setControl(hi: number, lo: number): void {
    const was = this.controlLo;
    this.controlHi = hi;
    this.controlLo = lo;
    if (lo & CTRL_CMDBUF_EN) {
      if (!(was & CTRL_CMDBUF_EN)) this.status |= STATUS_CMDBUF_RUN;
    } else {
      this.status &= ~STATUS_CMDBUF_RUN;
    }
    if (lo & CTRL_EVT_LOG_EN) this.status |= STATUS_EVT_RUN;
    else this.status &= ~STATUS_EVT_RUN;
  }
}
