/**
 * One AMD IOMMU as a device: its registers, the command processor, the DTE
 * cache, the IOTLB and directory cache, the event log, and the DMA port
 * through which a device's reads and writes are translated — all working on
 * the same physical memory the driver uses.
 */
import {
  PtError,
  U64Pair,
  argBool,
  argBytes,
  argInt,
  maskHi,
  maskLo,
  numberHi,
  numberLo,
  u64AddHi,
  u64AddLo,
  u64AddOverflows,
  u64Split,
  u64ToNumber,
  u64Value,
  type U64,
} from '@genpt/pt-core';
import { executeCommand, type HwCommand } from './command-buffer.js';
import { DteCache } from './device-table.js';
import { writeEvent } from './event-log.js';
import { Iotlb } from './iotlb.js';
import { MmioRegisters, resolveFeatures, type AmdIommuHwFeatures, type HwFeatures } from './mmio.js';
import {
  CTRL_CMDBUF_EN,
  CTRL_EVT_LOG_EN,
  EVT_ILLEGAL_COMMAND_ERROR,
  RING_ENTRY_BYTES,
  STATUS_CMDBUF_RUN,
  STATUS_COMWAIT_INT,
  STATUS_EVT_INT,
  STATUS_EVT_OVERFLOW,
} from './spec.js';
import type { SystemMemory } from './system-memory.js';
import { Translation, Translator, type StaleHit } from './translator.js';

export type { AmdIommuHwFeatures } from './mmio.js';
export type { StaleHit } from './translator.js';

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

export class AmdIommuHw {
  readonly mem: SystemMemory;
  readonly features: HwFeatures;
  readonly checkStale: boolean;
  /** @internal the register file */
  readonly regs: MmioRegisters;
  readonly dteCache = new DteCache();
  readonly iotlb = new Iotlb();
  /** Commands executed, oldest first (capped). */
  readonly commandLog: HwCommand[] = [];
  /** Uses of cached state that a fresh walk contradicts. */
  readonly staleHits: StaleHit[] = [];
  /** Counters. */
  readonly stats = { dmas: 0, faults: 0, walks: 0, iotlbHits: 0, commands: 0, eventsDropped: 0 };
  private readonly translator: Translator;
  private readonly commandLogLimit: number;
  private readonly tr = new Translation();
  private readonly iova = new U64Pair();

  constructor(mem: SystemMemory, opts: AmdIommuHwOptions = {}) {
    this.mem = mem;
    this.features = resolveFeatures(opts.features ?? {});
    this.regs = new MmioRegisters(this.features);
    this.checkStale = opts.checkStale ?? true;
    this.commandLogLimit = opts.commandLogLimit ?? 100000;
    this.translator = new Translator(this);
  }

  /* ---- the register interface the driver uses ---- */

  /** The IOMMU's PCI capability header (where NpCache is advertised). */
  readCapHeader(): number {
    return this.regs.capHeader;
  }

  readl(offset: number): number {
    return this.regs.readl(offset);
  }

  writel(offset: number, value: number): void {
    this.regs.writel(offset, value);
  }

  readq(offset: number): bigint {
    return this.regs.readq(offset);
  }

  writeq(offset: number, value: bigint): void {
    this.regs.writeq(offset, value);
  }

  /* ---- the command processor ---- */

  /** Commands written to the ring and not yet executed. */
  get pendingCommands(): number {
    const r = this.regs;
    const bytes = r.cmdRingBytes;
    return bytes === 0 ? 0 : ((r.cmdTail - r.cmdHead + bytes) % bytes) / RING_ENTRY_BYTES;
  }

  /**
   * Give the IOMMU time: it fetches and executes every command between head
   * and tail. The driver calls this from its polling delay.
   */
  run(): void {
    const r = this.regs;
    if (!r.enabled(CTRL_CMDBUF_EN) || !(r.status & STATUS_CMDBUF_RUN)) return;
    const base = r.cmdRingPa;
    const bytes = r.cmdRingBytes;
    const mem = this.mem;
    while (r.cmdHead !== r.cmdTail) {
      const pa = base + r.cmdHead;
      const cmd = executeCommand(this, mem.read32(pa), mem.read32(pa + 4), mem.read32(pa + 8), mem.read32(pa + 12));
      if (cmd === null) {
        // Stop fetching and report where: software must fix and restart the buffer.
        r.status &= ~STATUS_CMDBUF_RUN;
        this.logEvent(EVT_ILLEGAL_COMMAND_ERROR, 0, 0, 0, numberHi(pa), numberLo(pa));
        return;
      }
      this.stats.commands++;
      this.commandLog.push(cmd);
      if (this.commandLog.length > this.commandLogLimit) this.commandLog.splice(0, this.commandLog.length >> 1);
      r.cmdHead = (r.cmdHead + RING_ENTRY_BYTES) % bytes;
    }
  }

  /** @internal command processor callback */
  comWaitInterrupt(): void {
    this.regs.status |= STATUS_COMWAIT_INT;
  }

  /* ---- DMA ---- */

  /**
   * A device's DMA: read `len` bytes at `iova`, or write `data` (zeros when
   * omitted) there. Each page is translated separately; the first fault
   * stops the transfer, is logged in the event log, and is returned.
   */
  dma(deviceId: number, iova: U64, len: number, write: boolean, data?: Uint8Array): DmaResult {
    argInt(deviceId, 0, 0xffff, 'dma', 'deviceId');
    argInt(len, 1, 2 ** 31, 'dma', 'len');
    argBool(write, 'dma', 'write');
    if (write && data !== undefined) argBytes(data, len, 'dma', 'data');
    const a = this.iova;
    u64Split(iova, a, 'iova');
    if (u64AddOverflows(a.hi, a.lo, 0, len - 1)) throw new PtError('EOVERFLOW', 'DMA wraps past 2^64');
    this.stats.dmas++;
    const buf = write ? (data ?? new Uint8Array(len)) : new Uint8Array(len);
    const tr = this.tr;
    let done = 0;
    while (done < len) {
      const lo = u64AddLo(a.hi, a.lo, 0, done);
      const hi = u64AddHi(a.hi, a.lo, 0, done);
      if (!this.translator.translate(deviceId, hi, lo, write, tr)) {
        const r: DmaResult = { ok: false, bytes: done, fault: this.fault(deviceId, hi, lo) };
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

  /**
   * Where a read or write of iova by deviceId goes, without moving data.
   * Caches, A/D bits and the event log change exactly as for a DMA.
   */
  translateAccess(deviceId: number, iova: U64, write: boolean): { ok: true; oa: U64 } | { ok: false; fault: DmaFault } {
    // A device ID is the 16-bit PCI requester ID: anything else must not reach the device table.
    argInt(deviceId, 0, 0xffff, 'translateAccess', 'deviceId');
    argBool(write, 'translateAccess', 'write');
    const a = this.iova;
    u64Split(iova, a, 'iova');
    const tr = this.tr;
    if (this.translator.translate(deviceId, a.hi, a.lo, write, tr)) return { ok: true, oa: u64Value(tr.oaHi, tr.oaLo) };
    return { ok: false, fault: this.fault(deviceId, a.hi, a.lo) };
  }

  /** Log the translation's fault and describe it. */
  private fault(deviceId: number, hi: number, lo: number): DmaFault {
    const tr = this.tr;
    this.stats.faults++;
    this.logEvent(tr.code, deviceId, tr.domainId, tr.flags, hi, lo);
    return { code: tr.code, deviceId, domainId: tr.domainId, address: u64Value(hi, lo), flags: tr.flags };
  }

  /* ---- event log ---- */

  private logEvent(code: number, deviceId: number, domainId: number, flags: number, addrHi: number, addrLo: number): void {
    const r = this.regs;
    if (!r.enabled(CTRL_EVT_LOG_EN) || r.evtRing.bytes === 0) {
      this.stats.eventsDropped++;
      return;
    }
    if (writeEvent(this.mem, r.evtRing, { code, deviceId, domainOrPasid: domainId, flags, addrHi, addrLo })) {
      r.status |= STATUS_EVT_INT;
    } else {
      r.status |= STATUS_EVT_OVERFLOW;
      this.stats.eventsDropped++;
    }
  }
}
