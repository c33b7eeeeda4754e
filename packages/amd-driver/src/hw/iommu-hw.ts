/**
 * One AMD IOMMU as a device: MMIO registers, the command processor, the DTE
 * cache, the IOTLB and directory cache, the event log, and the DMA path that
 * translates a device's accesses through the tables the driver built — all
 * reading and writing the same physical memory the driver uses.
 *
 * Translation of a request (DeviceID, IOVA, read/write):
 * 1. IOMMU disabled or DTE V = 0: passed through untranslated.
 * 2. DTE TV = 0 or Mode = 0: not translated; the DTE's IR/IW decide.
 * 3. GV = 1 with GIOV: the guest (v2) table of PASID 0 from the GCR3 table,
 *    cached under (DomainID, PASID 0, guest).
 * 4. Mode 1..6: the host (v1) table, cached under DomainID.
 * A cached translation is used as is; only invalidation commands remove it.
 * With `checkStale` every use of cached state is compared with a fresh walk
 * of memory, and disagreements are recorded in `staleHits` — the evidence
 * of a missing or too-narrow invalidation.
 */
import {
  PtError,
  U64Pair,
  maskHi,
  maskLo,
  u64AddOverflows,
  u64Split,
  u64ToNumber,
  u64Value,
  type U64,
} from '@genpt/pt-core';
import { executeCommand, type HwCommand } from './command-buffer.js';
import { Dte, DteCache, DTE_BYTES, readDte } from './device-table.js';
import { writeEvent, type EventRing } from './event-log.js';
import { guestTag, hostTag, Iotlb } from './iotlb.js';
import {
  CAP_NPCACHE,
  CTRL_CMDBUF_EN,
  CTRL_EVT_LOG_EN,
  CTRL_GT_EN,
  CTRL_IOMMU_EN,
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
  EVT_ILLEGAL_COMMAND_ERROR,
  EVT_ILLEGAL_DEV_TABLE_ENTRY,
  EVT_IO_PAGE_FAULT,
  FAULT_FLAG_PR,
  FAULT_FLAG_RW,
  FAULT_FLAG_RZ,
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
  STATUS_COMWAIT_INT,
  STATUS_EVT_INT,
  STATUS_EVT_OVERFLOW,
  STATUS_EVT_RUN,
  STATUS_W1C,
} from './spec.js';
import type { SystemMemory } from './system-memory.js';
import { WalkResult, WALK_NOT_PRESENT, WALK_OK, WALK_PERMISSION, WALK_UPDATE_A, WALK_UPDATE_D, WALK_WRITE } from './walk-result.js';
import { walkV1 } from './walker-v1.js';
import { walkGcr3, walkV2 } from './walker-v2.js';

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

export interface AmdIommuHwOptions {
  features?: AmdIommuHwFeatures;
  /** Compare every use of cached state with a fresh walk (see staleHits). Default true. */
  checkStale?: boolean;
  /** Keep at most this many executed commands in commandLog. Default 100000. */
  commandLogLimit?: number;
}

/** A DMA the IOMMU refused. */
export interface DmaFault {
  /** Event code logged: 2 IO_PAGE_FAULT, 1 ILLEGAL_DEV_TABLE_ENTRY. */
  code: number;
  deviceId: number;
  domainId: number;
  /** The IOVA of the access that faulted. */
  address: U64;
  /** IO_PAGE_FAULT flags (PR 0x10, RW 0x20, RZ 0x80). */
  flags: number;
}

export interface DmaResult {
  ok: boolean;
  /** Bytes transferred before a fault (len on success). */
  bytes: number;
  /** What a read returned (the first `bytes` bytes). */
  data?: Uint8Array;
  fault?: DmaFault;
}

/** A DMA that used cached state disagreeing with the tables in memory. */
export interface StaleHit {
  kind: 'iotlb' | 'pde' | 'dte';
  deviceId: number;
  iova: bigint;
  write: boolean;
  /** OA the cached state gave (null: it gave a fault). */
  cachedOa: bigint | null;
  /** OA a fresh walk gives (null: a fault). */
  freshOa: bigint | null;
}

/** Translation of one access, reused across a DMA. */
class Translation {
  ok = false;
  /** OA of the accessed IOVA. */
  oaHi = 0;
  oaLo = 0;
  /** Size of the page it lies in. */
  sizeLg2 = 12;
  code = 0;
  flags = 0;
  domainId = 0;
}

const TWO32 = 2 ** 32;
/** Size field (bits 59:56) of the ring base registers: log2 of the entry count. */
const RING_LEN_SHIFT_HI = 24;

export class AmdIommuHw {
  readonly mem: SystemMemory;
  readonly features: Readonly<Required<AmdIommuHwFeatures>>;
  readonly checkStale: boolean;
  readonly dteCache = new DteCache();
  readonly iotlb = new Iotlb();
  /** Commands executed, oldest first (capped). */
  readonly commandLog: HwCommand[] = [];
  /** Uses of cached state that a fresh walk contradicts. */
  readonly staleHits: StaleHit[] = [];
  /** Counters. */
  readonly stats = { dmas: 0, faults: 0, walks: 0, iotlbHits: 0, commands: 0, eventsDropped: 0 };

  /* registers */
  private readonly efrHi: number;
  private readonly efrLo: number;
  private readonly capHeader: number;
  private devtabHi = 0;
  private devtabLo = 0;
  private cmdBaseHi = 0;
  private cmdBaseLo = 0;
  private evtBaseHi = 0;
  private evtBaseLo = 0;
  private controlHi = 0;
  private controlLo = 0;
  private cmdHead = 0;
  private cmdTail = 0;
  private status = 0;
  private readonly evtRing: EventRing = { basePa: 0, bytes: 0, head: 0, tail: 0 };
  private readonly commandLogLimit: number;

  private readonly res = new WalkResult();
  private readonly freshRes = new WalkResult();
  private readonly freshDte = new Dte();
  private readonly tr = new Translation();
  private readonly iova = new U64Pair();

  constructor(mem: SystemMemory, opts: AmdIommuHwOptions = {}) {
    this.mem = mem;
    const f = opts.features ?? {};
    this.features = Object.freeze({
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
    const ft = this.features;
    for (const [k, max] of [['hats', 3], ['gats', 2], ['glx', 3], ['pasmax', 31]] as const) {
      if (!Number.isInteger(ft[k]) || ft[k] < 0 || ft[k] > max) throw new PtError('EINVAL', `feature ${k} = ${ft[k]}`);
    }
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
    this.checkStale = opts.checkStale ?? true;
    this.commandLogLimit = opts.commandLogLimit ?? 100000;
  }

  /* ---- register interface ---- */

  /** The IOMMU's PCI capability header (where NpCache is advertised). */
  readCapHeader(): number {
    return this.capHeader;
  }

  /** 32-bit MMIO read (head/tail/status registers, or a half of a 64-bit one). */
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
        return offset & 4 ? Number(v >> 32n) | 0 : Number(v & 0xffffffffn) | 0;
      }
    }
  }

  /** 32-bit MMIO write. */
  writel(offset: number, value: number): void {
    switch (offset) {
      case MMIO_CMD_HEAD:
        this.cmdHead = value & 0x7fff0;
        return;
      case MMIO_CMD_TAIL:
        this.cmdTail = value & 0x7fff0;
        return;
      case MMIO_EVT_HEAD:
        this.evtRing.head = value & 0x7fff0;
        return;
      case MMIO_EVT_TAIL:
        // Software may only move the tail while logging is off.
        if (!(this.controlLo & CTRL_EVT_LOG_EN)) this.evtRing.tail = value & 0x7fff0;
        return;
      case MMIO_STATUS:
        this.status &= ~(value & STATUS_W1C);
        return;
      default:
        throw new RangeError(`writel to MMIO 0x${offset.toString(16)} (use writeq)`);
    }
  }

  /** 64-bit MMIO read. */
  readq(offset: number): bigint {
    const q = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    switch (offset) {
      case MMIO_DEVTAB_BASE:
        return q(this.devtabHi, this.devtabLo);
      case MMIO_CMDBUF_BASE:
        return q(this.cmdBaseHi, this.cmdBaseLo);
      case MMIO_EVTLOG_BASE:
        return q(this.evtBaseHi, this.evtBaseLo);
      case MMIO_CONTROL:
        return q(this.controlHi, this.controlLo);
      case MMIO_EFR:
        return q(this.efrHi, this.efrLo);
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

  /** 64-bit MMIO write. */
  writeq(offset: number, value: bigint): void {
    const hi = Number((value >> 32n) & 0xffffffffn) | 0;
    const lo = Number(value & 0xffffffffn) | 0;
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

  /* ---- the command processor ---- */

  /** Commands written to the ring and not yet executed. */
  get pendingCommands(): number {
    const bytes = ringBytes(this.cmdBaseHi);
    return bytes === 0 ? 0 : ((this.cmdTail - this.cmdHead + bytes) % bytes) / RING_ENTRY_BYTES;
  }

  /**
   * Give the IOMMU time: it fetches and executes every command between head
   * and tail. The driver calls this from its polling delay.
   */
  run(): void {
    if (!(this.controlLo & CTRL_CMDBUF_EN) || !(this.status & STATUS_CMDBUF_RUN)) return;
    const base = ringPa(this.cmdBaseHi, this.cmdBaseLo);
    const bytes = ringBytes(this.cmdBaseHi);
    const mem = this.mem;
    while (this.cmdHead !== this.cmdTail) {
      const pa = base + this.cmdHead;
      const cmd = executeCommand(this, mem.read32(pa), mem.read32(pa + 4), mem.read32(pa + 8), mem.read32(pa + 12));
      if (cmd === null) {
        // Stop fetching and report where: software must fix and restart the buffer.
        this.status &= ~STATUS_CMDBUF_RUN;
        this.logEvent(EVT_ILLEGAL_COMMAND_ERROR, 0, 0, 0, Math.floor(pa / TWO32), pa % TWO32);
        return;
      }
      this.stats.commands++;
      this.commandLog.push(cmd);
      if (this.commandLog.length > this.commandLogLimit) this.commandLog.splice(0, this.commandLog.length >> 1);
      this.cmdHead = (this.cmdHead + RING_ENTRY_BYTES) % bytes;
    }
  }

  /** @internal command processor callback */
  comWaitInterrupt(): void {
    this.status |= STATUS_COMWAIT_INT;
  }

  /* ---- DMA ---- */

  /**
   * A device's DMA: read `len` bytes at `iova`, or write `data` (zeros when
   * omitted) there. Each page is translated separately; the first fault
   * stops the transfer, is logged in the event log, and is returned.
   */
  dma(deviceId: number, iova: U64, len: number, write: boolean, data?: Uint8Array): DmaResult {
    if (!Number.isInteger(deviceId) || deviceId < 0 || deviceId > 0xffff) {
      throw new PtError('EINVAL', `device id ${String(deviceId)}`);
    }
    if (!Number.isInteger(len) || len <= 0 || len > 2 ** 31) throw new PtError('EINVAL', `DMA length ${String(len)}`);
    if (write && data !== undefined && data.length < len) throw new PtError('EINVAL', 'DMA data shorter than len');
    const a = this.iova;
    u64Split(iova, a, 'iova');
    if (u64AddOverflows(a.hi, a.lo, 0, len - 1)) throw new PtError('EOVERFLOW', 'DMA wraps past 2^64');
    this.stats.dmas++;
    const buf = write ? (data ?? new Uint8Array(len)) : new Uint8Array(len);
    const tr = this.tr;
    let done = 0;
    while (done < len) {
      const lo = (a.lo + done) | 0;
      const hi = (a.hi + ((a.lo >>> 0) + done > 0xffffffff ? 1 : 0)) | 0;
      if (!this.translate(deviceId, hi, lo, write, tr)) {
        this.stats.faults++;
        const fault: DmaFault = {
          code: tr.code,
          deviceId,
          domainId: tr.domainId,
          address: u64Value(hi, lo),
          flags: tr.flags,
        };
        this.logEvent(tr.code, deviceId, tr.domainId, tr.flags, hi, lo);
        const r: DmaResult = { ok: false, bytes: done, fault };
        if (!write) r.data = buf.subarray(0, done);
        return r;
      }
      const off = u64ToNumber(hi & maskHi(tr.sizeLg2), lo & maskLo(tr.sizeLg2));
      const n = Math.min(len - done, 2 ** tr.sizeLg2 - off);
      const oa = u64ToNumber(tr.oaHi, tr.oaLo);
      if (oa + n > 2 ** 52) throw new PtError('ERANGE', `DMA to OA 0x${oa.toString(16)} past physical memory`);
      if (write) this.mem.writeBytes(oa, buf, done, n);
      else this.mem.readBytes(oa, n, buf, done);
      done += n;
    }
    const r: DmaResult = { ok: true, bytes: len };
    if (!write) r.data = buf;
    return r;
  }

  /** Where a read or write of iova by deviceId would go (no transfer; cached state and A/D bits update as for a DMA). */
  translateAccess(deviceId: number, iova: U64, write: boolean): { ok: true; oa: U64 } | { ok: false; fault: DmaFault } {
    const a = this.iova;
    u64Split(iova, a, 'iova');
    const tr = this.tr;
    if (this.translate(deviceId, a.hi, a.lo, write, tr)) return { ok: true, oa: u64Value(tr.oaHi, tr.oaLo) };
    const fault: DmaFault = { code: tr.code, deviceId, domainId: tr.domainId, address: u64Value(a.hi, a.lo), flags: tr.flags };
    this.logEvent(tr.code, deviceId, tr.domainId, tr.flags, a.hi, a.lo);
    return { ok: false, fault };
  }

  /* ---- translation ---- */

  private translate(devid: number, iovaHi: number, iovaLo: number, write: boolean, tr: Translation): boolean {
    if (!(this.controlLo & CTRL_IOMMU_EN)) return passThrough(iovaHi, iovaLo, tr);
    const dte = this.fetchDte(devid, iovaHi, iovaLo, write);
    if (dte === null) return this.fail(tr, EVT_ILLEGAL_DEV_TABLE_ENTRY, 0, write ? FAULT_FLAG_RW : 0);
    tr.domainId = dte.domainId;
    if (!dte.v) return passThrough(iovaHi, iovaLo, tr);
    const rw = write ? FAULT_FLAG_RW : 0;
    const guest = dte.gv && dte.giov;
    if (!dte.tv || (!guest && dte.mode === 0)) {
      // No page translation: the DTE's IR/IW alone decide.
      if (write ? !dte.iw : !dte.ir) return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
      return passThrough(iovaHi, iovaLo, tr);
    }
    if (!this.dteLegal(dte)) return this.fail(tr, EVT_ILLEGAL_DEV_TABLE_ENTRY, dte.domainId, rw);
    if (write ? !dte.iw : !dte.ir) return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);

    const tag = guest ? guestTag(dte.domainId, 0) : hostTag(dte.domainId);
    const flags = this.walkFlags(dte, guest, write);
    const e = this.iotlb.lookup(tag, iovaHi, iovaLo);
    const needsDirty = e !== undefined && write && (flags & WALK_UPDATE_D) !== 0 && !e.dirty && !e.notPresent;
    if (e !== undefined && !needsDirty) {
      // Served from the IOTLB, right or wrong.
      this.iotlb.hits++;
      this.stats.iotlbHits++;
      if (e.notPresent) {
        if (this.checkStale) this.checkAgainstMemory('iotlb', devid, iovaHi, iovaLo, write, null, null);
        return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
      }
      tr.sizeLg2 = e.sizeLg2;
      tr.oaHi = e.oaHi | (iovaHi & maskHi(e.sizeLg2));
      tr.oaLo = e.oaLo | (iovaLo & maskLo(e.sizeLg2));
      const allowed = write ? e.write : e.read;
      if (this.checkStale) {
        this.checkAgainstMemory('iotlb', devid, iovaHi, iovaLo, write, allowed ? tr.oaHi : null, allowed ? tr.oaLo : null);
      }
      if (!allowed) return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);
      tr.ok = true;
      return true;
    }

    // A miss (or a write through a clean entry, which must set D in memory): walk.
    this.iotlb.misses++;
    const res = this.walk(dte, guest, iovaHi, iovaLo, flags, true, tag, this.res);
    if (res === null) return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
    if (res.pdeHit && this.checkStale) {
      const ok = res.status === WALK_OK;
      this.checkAgainstMemory(
        'pde',
        devid,
        iovaHi,
        iovaLo,
        write,
        ok ? res.oaHi | (iovaHi & maskHi(res.sizeLg2)) : null,
        ok ? res.oaLo | (iovaLo & maskLo(res.sizeLg2)) : null,
      );
    }
    if (res.status === WALK_NOT_PRESENT) {
      if (this.features.npCache) {
        this.iotlb.insert(tag, {
          baseHi: iovaHi,
          baseLo: iovaLo & ~0xfff,
          sizeLg2: 12,
          oaHi: 0,
          oaLo: 0,
          read: false,
          write: false,
          dirty: false,
          notPresent: true,
        });
      }
      return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
    }
    if (res.status !== WALK_OK && res.status !== WALK_PERMISSION) {
      return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_RZ);
    }
    this.iotlb.insert(tag, {
      baseHi: iovaHi & ~maskHi(res.sizeLg2),
      baseLo: iovaLo & ~maskLo(res.sizeLg2),
      sizeLg2: res.sizeLg2,
      oaHi: res.oaHi,
      oaLo: res.oaLo,
      read: res.read,
      write: res.write,
      dirty: res.dirty,
      notPresent: false,
    });
    if (res.status === WALK_PERMISSION) return this.fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);
    tr.sizeLg2 = res.sizeLg2;
    tr.oaHi = res.oaHi | (iovaHi & maskHi(res.sizeLg2));
    tr.oaLo = res.oaLo | (iovaLo & maskLo(res.sizeLg2));
    tr.ok = true;
    return true;
  }

  /** A/D updates a walk for this DTE makes. */
  private walkFlags(dte: Dte, guest: boolean, write: boolean): number {
    let flags = write ? WALK_WRITE : 0;
    if (guest) return flags | WALK_UPDATE_A | WALK_UPDATE_D;
    if (dte.had & 1 && this.features.hasup) flags |= WALK_UPDATE_A;
    if (dte.had === 3 && this.features.hdsup) flags |= WALK_UPDATE_D;
    return flags;
  }

  /**
   * Walk the DTE's tables. Null when the walk cannot start (no valid GCR3
   * entry for PASID 0). `cached` uses and fills the directory cache.
   */
  private walk(
    dte: Dte,
    guest: boolean,
    iovaHi: number,
    iovaLo: number,
    flags: number,
    cached: boolean,
    tag: string,
    out: WalkResult,
  ): WalkResult | null {
    this.stats.walks++;
    const cache = cached ? this.iotlb : null;
    if (!guest) return walkV1(this.mem, dte.rootPa, dte.mode, iovaHi, iovaLo, flags, cache, tag, out);
    const cr3 = walkGcr3(this.mem, dte.gcr3Pa, dte.glx, 0);
    if (cr3 < 0) return null;
    return walkV2(this.mem, cr3, dte.guestLevels, iovaHi, iovaLo, flags, cache, tag, out);
  }

  /** The DTE for devid, from the DTE cache or memory. Null if devid is past the device table. */
  private fetchDte(devid: number, iovaHi: number, iovaLo: number, write: boolean): Dte | null {
    let dte = this.dteCache.get(devid);
    if (dte !== undefined) {
      if (this.checkStale) {
        const fresh = readDte(this.mem, ringPa(this.devtabHi, this.devtabLo), devid, this.freshDte);
        if (!fresh.sameRaw(dte)) {
          this.staleHits.push({ kind: 'dte', deviceId: devid, iova: big(iovaHi, iovaLo), write, cachedOa: null, freshOa: null });
        }
      }
      return dte;
    }
    const entries = (((this.devtabLo & 0x1ff) + 1) * 4096) / DTE_BYTES;
    if (devid >= entries) return null;
    dte = readDte(this.mem, ringPa(this.devtabHi, this.devtabLo), devid, new Dte());
    this.dteCache.set(devid, dte);
    return dte;
  }

  /** Settings the IOMMU refuses (logged as ILLEGAL_DEV_TABLE_ENTRY). */
  private dteLegal(dte: Dte): boolean {
    if (dte.gv) {
      if (!(this.controlLo & CTRL_GT_EN) || !this.features.gt) return false;
      if (dte.glx > this.features.glx) return false;
      if (dte.guestLevels === 5 && this.features.gats < 1) return false;
    }
    if (dte.gv && dte.giov) return true;
    // Mode 7 is reserved; more levels than HATS allows are illegal.
    return dte.mode !== 7 && this.features.hats !== 3 && dte.mode <= this.features.hats + 4;
  }

  /**
   * Record a stale use of cached state: compare what the cache gave
   * (OA of the access, or null for a fault) with a side-effect free walk of
   * the tables as they are in memory now.
   */
  private checkAgainstMemory(
    kind: StaleHit['kind'],
    devid: number,
    iovaHi: number,
    iovaLo: number,
    write: boolean,
    cachedOaHi: number | null,
    cachedOaLo: number | null,
  ): void {
    const dte = readDte(this.mem, ringPa(this.devtabHi, this.devtabLo), devid, this.freshDte);
    let freshOa: bigint | null = null;
    const guest = dte.gv && dte.giov;
    if (dte.v && dte.tv && (guest || (dte.mode >= 1 && dte.mode <= 6)) && (write ? dte.iw : dte.ir)) {
      const res = this.walk(dte, guest, iovaHi, iovaLo, write ? WALK_WRITE : 0, false, '', this.freshRes);
      this.stats.walks--;
      if (res !== null && res.status === WALK_OK) {
        freshOa = big(res.oaHi | (iovaHi & maskHi(res.sizeLg2)), res.oaLo | (iovaLo & maskLo(res.sizeLg2)));
      }
    }
    const cachedOa = cachedOaHi === null ? null : big(cachedOaHi, cachedOaLo!);
    if (cachedOa !== freshOa) {
      this.staleHits.push({ kind, deviceId: devid, iova: big(iovaHi, iovaLo), write, cachedOa, freshOa });
    }
  }

  private fail(tr: Translation, code: number, domainId: number, flags: number): false {
    tr.ok = false;
    tr.code = code;
    tr.domainId = domainId;
    tr.flags = flags;
    return false;
  }

  /* ---- event log ---- */

  private logEvent(code: number, deviceId: number, domainId: number, flags: number, addrHi: number, addrLo: number): void {
    if (!(this.controlLo & CTRL_EVT_LOG_EN) || this.evtRing.bytes === 0) {
      this.stats.eventsDropped++;
      return;
    }
    const ok = writeEvent(this.mem, this.evtRing, { code, deviceId, domainOrPasid: domainId, flags, addrHi, addrLo });
    if (ok) {
      this.status |= STATUS_EVT_INT;
    } else {
      this.status |= STATUS_EVT_OVERFLOW;
      this.stats.eventsDropped++;
    }
  }
}

function passThrough(iovaHi: number, iovaLo: number, tr: Translation): true {
  tr.ok = true;
  tr.oaHi = iovaHi;
  tr.oaLo = iovaLo;
  tr.sizeLg2 = 12;
  return true;
}

/** PA in bits 51:12 of a base register. */
function ringPa(hi: number, lo: number): number {
  return (hi & 0xfffff) * TWO32 + ((lo & 0xfffff000) >>> 0);
}

/** Bytes of a command or event ring from its base register's length field. */
function ringBytes(hi: number): number {
  const lg2 = (hi >>> RING_LEN_SHIFT_HI) & 0xf;
  return lg2 < 8 ? 0 : 2 ** lg2 * RING_ENTRY_BYTES;
}

function big(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
