/**
 * The guest (v2) walk, from the specification's "I/O Page Tables for Guest
 * Translations": the DTE's GCR3 table (GLX + 1 levels of 512 entries indexed
 * by PASID bits, bit 0 valid) gives the guest CR3 for a PASID; the guest
 * table is x86 long-mode paging with 4 or 5 levels.
 *
 * Per entry: P (bit 0) present; R/W (bit 1) ANDed down the path; PS (bit 7)
 * makes a PDE (2 MiB) or PDPTE (1 GiB) a leaf and is reserved above that;
 * address bits 51:12 (for PS leaves bit 12 is PAT, and the address bits
 * below the page size are reserved). The walker sets A in every entry it
 * uses and D in the leaf on a write, as an x86 MMU does. Requests without a
 * PASID (DTE GIOV) decode the whole 48/57-bit IOVA with no sign extension.
 * U/S and NX do not apply to the plain DMA the model issues.
 */
import { maskHi, maskLo, u64ShrHi, u64ShrLo, u64ToNumber } from '@genpt/pt-core';
import { pdeSpanLg2, type Iotlb } from './iotlb.js';
import type { SystemMemory } from './system-memory.js';
import {
  WALK_NOT_PRESENT,
  WALK_OK,
  WALK_PERMISSION,
  WALK_RESERVED,
  WALK_UPDATE_A,
  WALK_UPDATE_D,
  WALK_WRITE,
  type WalkResult,
} from './walk-result.js';

const GCR3_VALID = 1;
const X86_P = 1 << 0;
const X86_RW = 1 << 1;
const X86_A = 1 << 5;
const X86_D = 1 << 6;
const X86_PS = 1 << 7;
const ADDR_LO = 0xfffff000 | 0;
const ADDR_HI = 0x000fffff;

/**
 * Look up PASID in a GCR3 table with glx + 1 levels: the guest table root
 * PA, or -1 if an entry on the way is not valid.
 */
export function walkGcr3(mem: SystemMemory, gcr3Pa: number, glx: number, pasid: number): number {
  let table = gcr3Pa;
  for (let level = glx; ; level--) {
    const pa = table + ((pasid >>> (9 * level)) & 0x1ff) * 8;
    const lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    if ((lo & GCR3_VALID) === 0) return -1;
    table = u64ToNumber(hi & ADDR_HI, lo & ADDR_LO);
    if (level === 0) return table;
  }
}

/** Translate iova through an x86 table of `levels` (4 or 5) levels at cr3Pa. */
export function walkV2(
  mem: SystemMemory,
  cr3Pa: number,
  levels: number,
  iovaHi: number,
  iovaLo: number,
  flags: number,
  cache: Iotlb | null,
  tag: string,
  out: WalkResult,
): WalkResult {
  out.reset();
  const top = 12 + 9 * levels;
  if ((u64ShrHi(iovaHi, iovaLo, top) | u64ShrLo(iovaHi, iovaLo, top)) !== 0) {
    out.status = WALK_NOT_PRESENT;
    return out;
  }
  const updateA = (flags & WALK_UPDATE_A) !== 0;
  let level = levels;
  let table = cr3Pa;
  let write = true;
  if (cache !== null) {
    const pde = cache.pdeLookup(tag, levels, iovaHi, iovaLo);
    if (pde !== undefined) {
      level = pde.level;
      table = pde.tablePa;
      write = pde.write;
      out.pdeHit = true;
    }
  }
  for (;;) {
    const shift = 12 + 9 * (level - 1);
    const pa = table + (u64ShrLo(iovaHi, iovaLo, shift) & 0x1ff) * 8;
    let lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    if ((lo & X86_P) === 0) {
      out.status = WALK_NOT_PRESENT;
      return out;
    }
    write = write && (lo & X86_RW) !== 0;
    const leaf = level === 1 || (lo & X86_PS) !== 0;
    if (!leaf) {
      if (updateA && (lo & X86_A) === 0) mem.or32(pa, X86_A);
      table = u64ToNumber(hi & ADDR_HI, lo & ADDR_LO);
      level--;
      if (cache !== null) {
        const span = pdeSpanLg2(level);
        cache.pdeInsert(tag, {
          level,
          baseHi: iovaHi & ~maskHi(span),
          baseLo: iovaLo & ~maskLo(span),
          tablePa: table,
          read: true,
          write,
        });
      }
      continue;
    }
    const sizeLg2 = shift;
    if (level > 3) {
      // PS is reserved in PML4 and PML5 entries.
      out.status = WALK_RESERVED;
      return out;
    }
    if (level > 1 && ((lo & ADDR_LO & maskLo(sizeLg2) & ~0x1fff) | (hi & ADDR_HI & maskHi(sizeLg2))) !== 0) {
      // Address bits between PAT (bit 12) and the page size must be zero.
      out.status = WALK_RESERVED;
      return out;
    }
    out.read = true;
    out.write = write;
    out.sizeLg2 = sizeLg2;
    out.oaHi = hi & ADDR_HI & ~maskHi(sizeLg2);
    out.oaLo = lo & ADDR_LO & ~maskLo(sizeLg2);
    out.leafPa = pa;
    const isWrite = (flags & WALK_WRITE) !== 0;
    if (isWrite && !write) {
      out.status = WALK_PERMISSION;
      out.dirty = (lo & X86_D) !== 0;
      return out;
    }
    let set = 0;
    if (updateA) set |= X86_A;
    if (isWrite && flags & WALK_UPDATE_D) set |= X86_D;
    if ((lo & set) !== set) {
      mem.or32(pa, set);
      lo |= set;
    }
    out.dirty = (lo & X86_D) !== 0;
    out.status = WALK_OK;
    return out;
  }
}
