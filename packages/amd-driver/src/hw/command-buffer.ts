/**
 * The command processor: fetches 16-byte commands from the ring at the
 * Command Buffer Base register between head and tail, and carries them out
 * against the DTE cache and the IOTLB. The model fetches only when it is
 * given time (the driver's polling delay, see AmdIommuHw.run), so a command
 * is only known to be done after a COMPLETION_WAIT has been seen to store —
 * a driver that skips the wait can see a DMA use a translation it has
 * already asked to invalidate.
 *
 * INVALIDATE_IOMMU_PAGES address: with S = 0 one 4 KiB page; with S = 1 the
 * lowest clear address bit at or above bit 12, say c, makes the block
 * 2^(c+1) bytes, naturally aligned (all ones: everything).
 */
import { ffz64, maskHi, maskLo, u64ShrHi, u64ShrLo, u64ToBigInt, u64ToNumber } from '@genpt/pt-core';
import type { DteCache } from './device-table.js';
import { guestTag, hostTag, type Iotlb } from './iotlb.js';
import {
  CMD_COMPLETE_PPR_REQUEST,
  CMD_COMPLETION_WAIT,
  CMD_INVALIDATE_DEVTAB_ENTRY,
  CMD_INVALIDATE_INTERRUPT_TABLE,
  CMD_INVALIDATE_IOMMU_ALL,
  CMD_INVALIDATE_IOMMU_PAGES,
  CMD_INVALIDATE_IOTLB_PAGES,
  CMD_PREFETCH_IOMMU_PAGES,
  COMMAND_NAMES,
} from './spec.js';
import type { SystemMemory } from './system-memory.js';

/** A command as the hardware executed it, with what it decoded. */
export interface HwCommand {
  opcode: number;
  name: string;
  /** The four command words (unsigned). */
  words: [number, number, number, number];
  /** INVALIDATE_IOMMU_PAGES: DomainID, PASID, flags and the block it covered (inclusive, bigints). */
  domainId?: number;
  pasid?: number;
  s?: boolean;
  pde?: boolean;
  gn?: boolean;
  first?: bigint;
  last?: bigint;
  /** INVALIDATE_DEVTAB_ENTRY / INVALIDATE_IOTLB_PAGES: the DeviceID. */
  deviceId?: number;
  /** COMPLETION_WAIT: where and what it stored. */
  storePa?: number;
  storeValue?: bigint;
  /** Cached entries the command dropped. */
  dropped?: number;
}

/** What the command processor acts on. */
export interface CommandTarget {
  mem: SystemMemory;
  dteCache: DteCache;
  iotlb: Iotlb;
  /** Raise the completion-wait interrupt status. */
  comWaitInterrupt(): void;
}

/** Block [first, last] an INVALIDATE_IOMMU_PAGES address covers; words out[0..3] = firstHi, firstLo, lastHi, lastLo. */
export function decodeInvAddress(addrHi: number, addrLo: number, s: boolean, out: Int32Array): void {
  const lo = addrLo & ~0xfff;
  if (!s) {
    out[0] = addrHi;
    out[1] = lo;
    out[2] = addrHi;
    out[3] = lo | 0xfff;
    return;
  }
  const c = 12 + ffz64(u64ShrHi(addrHi, lo, 12), u64ShrLo(addrHi, lo, 12));
  const lg2 = Math.min(c + 1, 64);
  out[0] = addrHi & ~maskHi(lg2);
  out[1] = lo & ~maskLo(lg2);
  out[2] = out[0]! | maskHi(lg2);
  out[3] = out[1]! | maskLo(lg2);
}

const block = new Int32Array(4);

/**
 * Execute one command. Returns the decoded command, or null for an opcode
 * the IOMMU does not know (the caller logs ILLEGAL_COMMAND_ERROR and stops).
 */
export function executeCommand(t: CommandTarget, w0: number, w1: number, w2: number, w3: number): HwCommand | null {
  const opcode = (w1 >>> 28) & 0xf;
  const name = COMMAND_NAMES[opcode];
  if (name === undefined) return null;
  const cmd: HwCommand = { opcode, name, words: [w0 >>> 0, w1 >>> 0, w2 >>> 0, w3 >>> 0] };
  switch (opcode) {
    case CMD_COMPLETION_WAIT: {
      if (w0 & 1) {
        // Store: the 8-byte aligned address is in w0[31:3] and w1[19:0].
        const pa = u64ToNumber(w1 & 0xfffff, w0 & ~7);
        t.mem.write32(pa, w2);
        t.mem.write32(pa + 4, w3);
        cmd.storePa = pa;
        cmd.storeValue = u64ToBigInt(w3, w2);
      }
      if (w0 & 2) t.comWaitInterrupt();
      return cmd;
    }
    case CMD_INVALIDATE_DEVTAB_ENTRY: {
      const devid = w0 & 0xffff;
      const had = t.dteCache.get(devid) !== undefined;
      t.dteCache.invalidate(devid);
      cmd.deviceId = devid;
      cmd.dropped = had ? 1 : 0;
      return cmd;
    }
    case CMD_INVALIDATE_IOMMU_PAGES: {
      const domainId = w1 & 0xffff;
      const s = (w2 & 1) !== 0;
      const pde = (w2 & 2) !== 0;
      const gn = (w2 & 4) !== 0;
      const pasid = w0 & 0xfffff;
      decodeInvAddress(w3, w2, s, block);
      const tag = gn ? guestTag(domainId, pasid) : hostTag(domainId);
      cmd.dropped = t.iotlb.invalidate(tag, block[0]!, block[1]!, block[2]!, block[3]!, pde);
      cmd.domainId = domainId;
      cmd.pasid = pasid;
      cmd.s = s;
      cmd.pde = pde;
      cmd.gn = gn;
      cmd.first = u64ToBigInt(block[0]!, block[1]!);
      cmd.last = u64ToBigInt(block[2]!, block[3]!);
      return cmd;
    }
    case CMD_INVALIDATE_IOTLB_PAGES:
      // Forwarded to the device's ATC; the model's devices have none.
      cmd.deviceId = w0 & 0xffff;
      return cmd;
    case CMD_INVALIDATE_INTERRUPT_TABLE:
    case CMD_PREFETCH_IOMMU_PAGES:
    case CMD_COMPLETE_PPR_REQUEST:
      // Interrupt remapping, prefetch and PPR are outside the model.
      return cmd;
    case CMD_INVALIDATE_IOMMU_ALL: {
      cmd.dropped = t.dteCache.size + t.iotlb.size + t.iotlb.pdeSize;
      t.dteCache.clear();
      t.iotlb.clear();
      return cmd;
    }
    default:
      return null;
  }
}
