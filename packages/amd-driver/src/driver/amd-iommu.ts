/**
 * struct amd_iommu: the driver's handle on one IOMMU — the device table,
 * command buffer, event buffer and completion semaphore it allocated in
 * memory, the MMIO registers it programs, and the command queue protocol
 * (copy at the tail, bump the tail register, COMPLETION_WAIT and poll the
 * semaphore when something was queued).
 */
import { numberHi, numberLo, PtError, u64ToBigInt, u64ToNumber, type TableMemory } from '@genpt/pt-core';
import { PtSpinLock } from '@genpt/iommu-ops';
import type { SystemMemory } from '../hw/system-memory.js';
import { buildCompletionWait, buildInvAll, buildInvDte, buildInvIommuPages, buildInvIrt, IommuCmd } from './commands.js';
import type { IommuDevData } from './device.js';
import { printEvent, type AmdIommuEvent } from './events.js';
import {
  CMD_BUFFER_SIZE,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO,
  CONTROL_CMDBUF_EN,
  CONTROL_EVT_LOG_EN,
  CONTROL_GT_EN,
  CONTROL_IOMMU_EN,
  DEV_TABLE_ENTRY_SIZE,
  DTE_FLAG_TV,
  DTE_FLAG_V,
  EVENT_ENTRY_SIZE,
  EVT_BUFFER_SIZE,
  FEATURE_GLX_SHIFT,
  FEATURE_GT,
  FEATURE_IA,
  FEATURE_PASMAX_SHIFT,
  IOMMU_CAP_NPCACHE,
  IOMMU_NO_PASID,
  LOOP_TIMEOUT,
  MMIO_CMD_BUF_OFFSET,
  MMIO_CMD_HEAD_OFFSET,
  MMIO_CMD_TAIL_OFFSET,
  MMIO_CONTROL_OFFSET,
  MMIO_DEV_TABLE_OFFSET,
  MMIO_EVT_BUF_OFFSET,
  MMIO_EVT_HEAD_OFFSET,
  MMIO_EVT_TAIL_OFFSET,
  MMIO_EXT_FEATURES,
  MMIO_RING_SIZE_512_HI,
} from './types.js';

/** The register interface of an IOMMU, as the driver sees it. */
export interface AmdIommuMmio {
  readl(offset: number): number;
  writel(offset: number, value: number): void;
  readq(offset: number): bigint;
  writeq(offset: number, value: bigint): void;
  /** The PCI capability header (config space). */
  readCapHeader(): number;
  /** Time passing while the CPU spins (udelay): the IOMMU makes progress. */
  run(): void;
}

export class AmdIommu {
  readonly index: number;
  readonly mmio: AmdIommuMmio;
  /** Physical memory, as the CPU sees it. */
  readonly mem: SystemMemory;
  readonly tables: TableMemory;
  /** Extended Feature Register, as read from MMIO. */
  readonly efr: bigint;
  /** PCI capability header. */
  readonly cap: number;
  /** Highest DeviceID behind this IOMMU. */
  readonly lastBdf: number;
  /** iommu->lock: serialises the command buffer. */
  readonly lock = new PtSpinLock();
  /** Devices behind this IOMMU, by DeviceID (find_dev_data). */
  readonly devData = new Map<number, IommuDevData>();
  /** Driver messages (the kernel's log lines). */
  readonly log: string[] = [];

  devTable = 0;
  devTableSize = 0;
  cmdBuf = 0;
  cmdBufHead = 0;
  cmdBufTail = 0;
  /** Something was queued since the last COMPLETION_WAIT. */
  needSync = false;
  cmdSem = 0;
  cmdSemVal = 0;
  evtBuf = 0;
  /** iommu->iommu.max_pasids */
  maxPasids = 0;
  /** Times the driver spun waiting on the hardware. */
  udelays = 0;
  private readonly cmd = new IommuCmd();

  constructor(index: number, mmio: AmdIommuMmio, mem: SystemMemory, lastBdf: number) {
    this.index = index;
    this.mmio = mmio;
    this.mem = mem;
    this.tables = mem.tables;
    this.lastBdf = lastBdf;
    this.efr = mmio.readq(MMIO_EXT_FEATURES);
    this.cap = mmio.readCapHeader();
  }

  get npCache(): boolean {
    return (this.cap & (1 << IOMMU_CAP_NPCACHE)) !== 0;
  }

  /** EFR.HATS */
  get hats(): number {
    return Number((this.efr >> 10n) & 3n);
  }

  /** EFR.GATS */
  get gats(): number {
    return Number((this.efr >> 12n) & 3n);
  }

  get glx(): number {
    return Number((this.efr >> FEATURE_GLX_SHIFT) & 3n);
  }

  checkFeature(mask: bigint): boolean {
    return (this.efr & mask) !== 0n;
  }

  /**
   * Allocate the device table, command buffer, event buffer and semaphore,
   * mark every DTE valid with translation and no permissions (DMA blocked
   * until a domain is attached), program and enable the hardware, and flush
   * its caches.
   */
  init(): void {
    const entries = this.lastBdf + 1;
    this.devTableSize = Math.max(2 ** Math.ceil(Math.log2(entries * DEV_TABLE_ENTRY_SIZE)), 4096);
    this.devTable = this.alloc(Math.log2(this.devTableSize), 'device table');
    this.cmdBuf = this.alloc(Math.log2(CMD_BUFFER_SIZE), 'command buffer');
    this.evtBuf = this.alloc(Math.log2(EVT_BUFFER_SIZE), 'event buffer');
    this.cmdSem = this.alloc(12, 'completion semaphore');

    // init_device_table_dma()
    for (let devid = 0; devid < entries; devid++) {
      this.mem.write32(this.devTable + devid * DEV_TABLE_ENTRY_SIZE, DTE_FLAG_V | DTE_FLAG_TV);
    }
    // iommu_set_device_table(): base | (size in 4 KiB pages - 1)
    this.mmio.writeq(MMIO_DEV_TABLE_OFFSET, BigInt(this.devTable) | BigInt(this.devTableSize / 4096 - 1));
    // iommu_enable_command_buffer() and amd_iommu_reset_cmd_buffer()
    this.mmio.writeq(MMIO_CMD_BUF_OFFSET, u64ToBigInt(numberHi(this.cmdBuf) | MMIO_RING_SIZE_512_HI, numberLo(this.cmdBuf)));
    this.featureDisable(CONTROL_CMDBUF_EN);
    this.mmio.writel(MMIO_CMD_HEAD_OFFSET, 0);
    this.mmio.writel(MMIO_CMD_TAIL_OFFSET, 0);
    this.cmdBufHead = 0;
    this.cmdBufTail = 0;
    this.featureEnable(CONTROL_CMDBUF_EN);
    // iommu_enable_event_buffer()
    this.mmio.writeq(MMIO_EVT_BUF_OFFSET, u64ToBigInt(numberHi(this.evtBuf) | MMIO_RING_SIZE_512_HI, numberLo(this.evtBuf)));
    this.mmio.writel(MMIO_EVT_HEAD_OFFSET, 0);
    this.mmio.writel(MMIO_EVT_TAIL_OFFSET, 0);
    this.featureEnable(CONTROL_EVT_LOG_EN);
    if (this.checkFeature(FEATURE_GT)) {
      const pasmax = Number((this.efr >> FEATURE_PASMAX_SHIFT) & 0x1fn);
      this.maxPasids = Math.min(2 ** (pasmax + 1) - 1, 0xffff);
      this.featureEnable(CONTROL_GT_EN);
    }
    this.featureEnable(CONTROL_IOMMU_EN);
    this.flushAllCaches();
  }

  private alloc(lg2: number, what: string): number {
    const pa = this.tables.alloc(lg2);
    if (pa < 0) throw new PtError('ENOMEM', `no memory for the ${what}`);
    return pa;
  }

  /** iommu_feature_enable() */
  featureEnable(bit: number): void {
    this.mmio.writeq(MMIO_CONTROL_OFFSET, this.mmio.readq(MMIO_CONTROL_OFFSET) | (1n << BigInt(bit)));
  }

  featureDisable(bit: number): void {
    this.mmio.writeq(MMIO_CONTROL_OFFSET, this.mmio.readq(MMIO_CONTROL_OFFSET) & ~(1n << BigInt(bit)));
  }

  /** udelay(1): let the hardware run. */
  udelay(): void {
    this.udelays++;
    this.mmio.run();
  }

  /* ---- command queue ---- */

  /**
   * __iommu_queue_command_sync(): copy cmd to the ring at the tail and tell
   * the IOMMU; when fewer than 0x20 bytes are left, re-read the head (and
   * wait). Returns 0 or -EIO on timeout.
   */
  private queueCommandLocked(cmd: IommuCmd, sync: boolean): number {
    const nextTail = (this.cmdBufTail + 16) % CMD_BUFFER_SIZE;
    let count = 0;
    for (;;) {
      const left = (((this.cmdBufHead - nextTail) % CMD_BUFFER_SIZE) + CMD_BUFFER_SIZE) % CMD_BUFFER_SIZE;
      if (left > 0x20) break;
      if (count++) {
        if (count === LOOP_TIMEOUT) {
          this.log.push('Command buffer timeout');
          return -5; // EIO
        }
        this.udelay();
      }
      this.cmdBufHead = this.mmio.readl(MMIO_CMD_HEAD_OFFSET);
    }
    const pa = this.cmdBuf + this.cmdBufTail;
    for (let i = 0; i < 4; i++) this.mem.write32(pa + 4 * i, cmd.data[i]!);
    this.cmdBufTail = nextTail;
    this.mmio.writel(MMIO_CMD_TAIL_OFFSET, nextTail);
    this.needSync = sync;
    return 0;
  }

  /** iommu_queue_command_sync() */
  queueCommandSync(cmd: IommuCmd, sync: boolean): number {
    this.lock.lock();
    try {
      return this.queueCommandLocked(cmd, sync);
    } finally {
      this.lock.unlock();
    }
  }

  /** iommu_queue_command() */
  queueCommand(cmd: IommuCmd): number {
    return this.queueCommandSync(cmd, true);
  }

  /**
   * iommu_completion_wait(): if anything was queued, queue a COMPLETION_WAIT
   * storing the next sequence number and poll the semaphore for it.
   */
  completionWait(): number {
    if (!this.needSync) return 0;
    const cmd = this.cmd;
    let value: number;
    this.lock.lock();
    try {
      value = ++this.cmdSemVal;
      buildCompletionWait(cmd, this.cmdSem, numberHi(value), numberLo(value));
      const ret = this.queueCommandLocked(cmd, false);
      if (ret) return ret;
    } finally {
      this.lock.unlock();
    }
    return this.waitOnSem(value);
  }

  /** wait_on_sem(): the semaphore is a monotonically increasing sequence number. */
  private waitOnSem(value: number): number {
    let i = 0;
    while (this.readSem() - value < 0 && i < LOOP_TIMEOUT) {
      this.udelay();
      i++;
    }
    if (i === LOOP_TIMEOUT) {
      this.log.push(`IOMMU ${this.index}: Completion-Wait loop timed out`);
      return -5; // EIO
    }
    return 0;
  }

  private readSem(): number {
    const lo = this.mem.read32(this.cmdSem);
    return u64ToNumber(this.mem.read32(this.cmdSem + 4), lo);
  }

  /* ---- IOMMU-wide flushes ---- */

  /** iommu_flush_dte() */
  flushDte(devid: number): number {
    buildInvDte(this.cmd, devid);
    return this.queueCommand(this.cmd);
  }

  /** iommu_flush_dte_sync() */
  flushDteSync(devid: number): void {
    if (!this.flushDte(devid)) this.completionWait();
  }

  /** amd_iommu_flush_tlb_domid(): every page of one DomainID. */
  flushTlbDomid(domid: number): void {
    buildInvIommuPages(
      this.cmd,
      0,
      0,
      CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI,
      CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO,
      domid,
      IOMMU_NO_PASID,
      false,
    );
    this.queueCommand(this.cmd);
    this.completionWait();
  }

  /** amd_iommu_flush_all_caches(): INVALIDATE_IOMMU_ALL, or everything one by one. */
  flushAllCaches(): void {
    if (this.checkFeature(FEATURE_IA)) {
      buildInvAll(this.cmd);
      this.queueCommand(this.cmd);
      this.completionWait();
      return;
    }
    for (let devid = 0; devid <= this.lastBdf; devid++) this.flushDte(devid);
    this.completionWait();
    for (let devid = 0; devid <= this.lastBdf; devid++) {
      buildInvIrt(this.cmd, devid);
      this.queueCommand(this.cmd);
    }
    this.completionWait();
    for (let domid = 0; domid <= this.lastBdf; domid++) {
      buildInvIommuPages(
        this.cmd,
        0,
        0,
        CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI,
        CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO,
        domid,
        IOMMU_NO_PASID,
        false,
      );
      this.queueCommand(this.cmd);
    }
    this.completionWait();
  }

  /* ---- events ---- */

  /**
   * iommu_poll_events(): handle every entry between head and tail, zero it,
   * and move the head. Returns what was found.
   */
  pollEvents(): AmdIommuEvent[] {
    const out: AmdIommuEvent[] = [];
    let head = this.mmio.readl(MMIO_EVT_HEAD_OFFSET);
    const tail = this.mmio.readl(MMIO_EVT_TAIL_OFFSET);
    while (head !== tail) {
      out.push(printEvent(this, this.evtBuf + head));
      head = (head + EVENT_ENTRY_SIZE) % EVT_BUFFER_SIZE;
      this.mmio.writel(MMIO_EVT_HEAD_OFFSET, head);
    }
    return out;
  }

  /** Pages of table memory this IOMMU's own structures use. */
  get structurePages(): number {
    return this.devTableSize / 4096 + CMD_BUFFER_SIZE / 4096 + EVT_BUFFER_SIZE / 4096 + 1;
  }
}
