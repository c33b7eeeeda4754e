/**
 * How the IOMMU translates one request (DeviceID, IOVA, read/write):
 * 1. IOMMU disabled, or DTE V = 0: passed through untranslated.
 * 2. DTE TV = 0 or Mode = 0: not translated; the DTE's IR/IW decide.
 * 3. GV = 1 with GIOV: the guest (v2) table of PASID 0 from the GCR3 table,
 *    cached under (DomainID, PASID 0, guest).
 * 4. Mode 1..6: the host (v1) table, cached under DomainID.
 * A cached translation is used as is; only invalidation commands remove it.
 * With `checkStale`, every use of cached state (DTE cache, IOTLB, directory
 * cache) is compared with a side-effect free walk of memory, and
 * disagreements are recorded — the evidence of a missing or too-narrow
 * invalidation.
 */
import { maskHi, maskLo, u64ToBigInt } from '@genpt/pt-core';
import { Dte, readDte, type DteCache } from './device-table.js';
import { guestTag, hostTag, type Iotlb } from './iotlb.js';
import type { HwFeatures, MmioRegisters } from './mmio.js';
import {
  CTRL_GT_EN,
  CTRL_IOMMU_EN,
  EVT_ILLEGAL_DEV_TABLE_ENTRY,
  EVT_IO_PAGE_FAULT,
  FAULT_FLAG_PR,
  FAULT_FLAG_RW,
  FAULT_FLAG_RZ,
} from './spec.js';
import type { SystemMemory } from './system-memory.js';
import { WalkResult, WALK_NOT_PRESENT, WALK_OK, WALK_PERMISSION, WALK_UPDATE_A, WALK_UPDATE_D, WALK_WRITE } from './walk-result.js';
import { walkV1 } from './walker-v1.js';
import { walkGcr3, walkV2 } from './walker-v2.js';

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

/** The outcome of translating one access (reused across a DMA). */
export class Translation {
  ok = false;
  /** OA of the accessed IOVA. */
  oaHi = 0;
  oaLo = 0;
  /** Size of the page it lies in. */
  sizeLg2 = 12;
  /** On failure: the event code, DomainID and fault flags to log. */
  code = 0;
  flags = 0;
  domainId = 0;
}

/** What the translator works with: the IOMMU's memory, registers and caches. */
export interface TranslatorContext {
  readonly mem: SystemMemory;
  readonly regs: MmioRegisters;
  readonly features: HwFeatures;
  readonly dteCache: DteCache;
  readonly iotlb: Iotlb;
  readonly checkStale: boolean;
  readonly staleHits: StaleHit[];
  readonly stats: { walks: number; iotlbHits: number };
}

export class Translator {
  private readonly c: TranslatorContext;
  private readonly res = new WalkResult();
  private readonly freshRes = new WalkResult();
  private readonly freshDte = new Dte();

  constructor(context: TranslatorContext) {
    this.c = context;
  }

  /** Translate one access into `tr`; false when it faults (tr says what to log). */
  translate(devid: number, iovaHi: number, iovaLo: number, write: boolean, tr: Translation): boolean {
    const c = this.c;
    if (!c.regs.enabled(CTRL_IOMMU_EN)) return passThrough(iovaHi, iovaLo, tr);
    const dte = this.fetchDte(devid, iovaHi, iovaLo, write);
    if (dte === null) return fail(tr, EVT_ILLEGAL_DEV_TABLE_ENTRY, 0, write ? FAULT_FLAG_RW : 0);
    tr.domainId = dte.domainId;
    if (!dte.v) return passThrough(iovaHi, iovaLo, tr);
    const rw = write ? FAULT_FLAG_RW : 0;
    const guest = dte.gv && dte.giov;
    if (!dte.tv || (!guest && dte.mode === 0)) {
      // No page translation: the DTE's IR/IW alone decide.
      if (write ? !dte.iw : !dte.ir) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
      return passThrough(iovaHi, iovaLo, tr);
    }
    if (!this.dteLegal(dte)) return fail(tr, EVT_ILLEGAL_DEV_TABLE_ENTRY, dte.domainId, rw);
    if (write ? !dte.iw : !dte.ir) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);

    const tag = guest ? guestTag(dte.domainId, 0) : hostTag(dte.domainId);
    const flags = this.walkFlags(dte, guest, write);
    const e = c.iotlb.lookup(tag, iovaHi, iovaLo);
    const needsDirty = e !== undefined && write && (flags & WALK_UPDATE_D) !== 0 && !e.dirty && !e.notPresent;
    if (e !== undefined && !needsDirty) {
      // Served from the IOTLB, right or wrong.
      c.iotlb.hits++;
      c.stats.iotlbHits++;
      if (e.notPresent) {
        if (c.checkStale) this.checkAgainstMemory('iotlb', devid, iovaHi, iovaLo, write, null, 0);
        return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
      }
      tr.sizeLg2 = e.sizeLg2;
      tr.oaHi = e.oaHi | (iovaHi & maskHi(e.sizeLg2));
      tr.oaLo = e.oaLo | (iovaLo & maskLo(e.sizeLg2));
      const allowed = write ? e.write : e.read;
      if (c.checkStale) this.checkAgainstMemory('iotlb', devid, iovaHi, iovaLo, write, allowed ? tr.oaHi : null, tr.oaLo);
      if (!allowed) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);
      tr.ok = true;
      return true;
    }

    // A miss (or a write through a clean entry, which must set D in memory): walk.
    c.iotlb.misses++;
    const res = this.walk(dte, guest, iovaHi, iovaLo, flags, true, tag, this.res);
    if (res === null) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
    const ok = res.status === WALK_OK;
    if (res.pdeHit && c.checkStale) {
      const oaHi = res.oaHi | (iovaHi & maskHi(res.sizeLg2));
      const oaLo = res.oaLo | (iovaLo & maskLo(res.sizeLg2));
      this.checkAgainstMemory('pde', devid, iovaHi, iovaLo, write, ok ? oaHi : null, oaLo);
    }
    if (res.status === WALK_NOT_PRESENT) {
      if (c.features.npCache) {
        c.iotlb.insert(tag, {
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
      return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw);
    }
    if (!ok && res.status !== WALK_PERMISSION) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_RZ);
    c.iotlb.insert(tag, {
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
    if (!ok) return fail(tr, EVT_IO_PAGE_FAULT, dte.domainId, rw | FAULT_FLAG_PR);
    tr.sizeLg2 = res.sizeLg2;
    tr.oaHi = res.oaHi | (iovaHi & maskHi(res.sizeLg2));
    tr.oaLo = res.oaLo | (iovaLo & maskLo(res.sizeLg2));
    tr.ok = true;
    return true;
  }

  /** A/D updates a walk for this DTE makes: guest tables always, host tables per HAD. */
  private walkFlags(dte: Dte, guest: boolean, write: boolean): number {
    let flags = write ? WALK_WRITE : 0;
    if (guest) return flags | WALK_UPDATE_A | WALK_UPDATE_D;
    if (dte.had & 1 && this.c.features.hasup) flags |= WALK_UPDATE_A;
    if (dte.had === 3 && this.c.features.hdsup) flags |= WALK_UPDATE_D;
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
    const c = this.c;
    const cache = cached ? c.iotlb : null;
    if (cached) c.stats.walks++;
    if (!guest) return walkV1(c.mem, dte.rootPa, dte.mode, iovaHi, iovaLo, flags, cache, tag, out);
    const cr3 = walkGcr3(c.mem, dte.gcr3Pa, dte.glx, 0);
    if (cr3 < 0) return null;
    return walkV2(c.mem, cr3, dte.guestLevels, iovaHi, iovaLo, flags, cache, tag, out);
  }

  /** The DTE for devid, from the DTE cache or memory. Null if devid is past the device table. */
  private fetchDte(devid: number, iovaHi: number, iovaLo: number, write: boolean): Dte | null {
    const c = this.c;
    let dte = c.dteCache.get(devid);
    if (dte !== undefined) {
      if (c.checkStale && !readDte(c.mem, c.regs.devTablePa, devid, this.freshDte).sameRaw(dte)) {
        c.staleHits.push({ kind: 'dte', deviceId: devid, iova: u64ToBigInt(iovaHi, iovaLo), write, cachedOa: null, freshOa: null });
      }
      return dte;
    }
    if (devid >= c.regs.devTableEntries) return null;
    dte = readDte(c.mem, c.regs.devTablePa, devid, new Dte());
    c.dteCache.set(devid, dte);
    return dte;
  }

  /** Settings the IOMMU refuses (logged as ILLEGAL_DEV_TABLE_ENTRY). */
  private dteLegal(dte: Dte): boolean {
    const f = this.c.features;
    if (dte.gv) {
      if (!this.c.regs.enabled(CTRL_GT_EN) || !f.gt) return false;
      if (dte.glx > f.glx) return false;
      if (dte.guestLevels === 5 && f.gats < 1) return false;
    }
    if (dte.gv && dte.giov) return true;
    // Mode 7 is reserved; more levels than HATS allows are illegal.
    return dte.mode !== 7 && f.hats !== 3 && dte.mode <= f.hats + 4;
  }

  /**
   * Record a stale use of cached state: compare what the cache gave (the OA
   * of the access, or null for a fault) with a side-effect free walk of the
   * tables as they are in memory now.
   */
  private checkAgainstMemory(
    kind: StaleHit['kind'],
    devid: number,
    iovaHi: number,
    iovaLo: number,
    write: boolean,
    cachedOaHi: number | null,
    cachedOaLo: number,
  ): void {
    const c = this.c;
    const dte = readDte(c.mem, c.regs.devTablePa, devid, this.freshDte);
    let freshOa: bigint | null = null;
    const guest = dte.gv && dte.giov;
    if (dte.v && dte.tv && (guest || (dte.mode >= 1 && dte.mode <= 6)) && (write ? dte.iw : dte.ir)) {
      const res = this.walk(dte, guest, iovaHi, iovaLo, write ? WALK_WRITE : 0, false, '', this.freshRes);
      if (res !== null && res.status === WALK_OK) {
        freshOa = u64ToBigInt(res.oaHi | (iovaHi & maskHi(res.sizeLg2)), res.oaLo | (iovaLo & maskLo(res.sizeLg2)));
      }
    }
    const cachedOa = cachedOaHi === null ? null : u64ToBigInt(cachedOaHi, cachedOaLo);
    if (cachedOa !== freshOa) {
      c.staleHits.push({ kind, deviceId: devid, iova: u64ToBigInt(iovaHi, iovaLo), write, cachedOa, freshOa });
    }
  }
}

function fail(tr: Translation, code: number, domainId: number, flags: number): false {
  tr.ok = false;
  tr.code = code;
  tr.domainId = domainId;
  tr.flags = flags;
  return false;
}

function passThrough(iovaHi: number, iovaLo: number, tr: Translation): true {
  tr.ok = true;
  tr.oaHi = iovaHi;
  tr.oaLo = iovaLo;
  tr.sizeLg2 = 12;
  return true;
}
