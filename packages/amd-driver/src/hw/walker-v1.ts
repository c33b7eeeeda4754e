/**
 * The host (v1) table walk, written from the AMD IOMMU specification's "I/O
 * Page Tables for Host Translations" — deliberately not from the format
 * package, so the two can disagree. Levels are AMD levels: the DTE's Mode
 * gives the root's level (1..6); an entry at level L translates IOVA bits
 * [12 + 9L - 1 : 12 + 9(L - 1)].
 *
 * Per entry: PR (bit 0) present; Next Level (bits 11:9) 0 = a leaf of this
 * level's size, 7 = a leaf whose size is written into the address field as
 * a run of ones from bit 12 (size 2^(13 + ones)), 1..L-1 = a pointer to a
 * table of that level (skipped levels require the skipped IOVA bits to be
 * zero); address bits 51:12; IR/IW (bits 61/62) are ANDed down the path; A
 * (bit 5) and D (bit 6) are set by the walker when the DTE's HAD asks.
 */
import { ffz64, maskHi, maskLo, u64ShrHi, u64ShrLo, u64ToNumber } from '@genpt/pt-core';
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

const PTE_PR = 1 << 0;
const PTE_A = 1 << 5;
const PTE_D = 1 << 6;
const PTE_NL_SHIFT = 9;
const NL_SIZED_LEAF = 7;
const PTE_ADDR_LO = 0xfffff000 | 0;
const PTE_ADDR_HI = 0x000fffff;
/** IR and IW, high word bits 29 and 30. */
const PTE_IR_HI = 1 << 29;
const PTE_IW_HI = 1 << 30;

/**
 * Translate iova through the host table at rootPa with `mode` levels. With
 * a cache, start from the lowest cached directory entry and fill the
 * directory cache on the way down.
 */
export function walkV1(
  mem: SystemMemory,
  rootPa: number,
  mode: number,
  iovaHi: number,
  iovaLo: number,
  flags: number,
  cache: Iotlb | null,
  tag: string,
  out: WalkResult,
): WalkResult {
  out.reset();
  const top = 12 + 9 * mode;
  // The root's level limits the IOVA: higher bits must be zero.
  if (top < 64 && (u64ShrHi(iovaHi, iovaLo, top) | u64ShrLo(iovaHi, iovaLo, top)) !== 0) {
    out.status = WALK_NOT_PRESENT;
    return out;
  }
  let level = mode;
  let table = rootPa;
  let read = true;
  let write = true;
  if (cache !== null) {
    const pde = cache.pdeLookup(tag, mode, iovaHi, iovaLo);
    if (pde !== undefined) {
      level = pde.level;
      table = pde.tablePa;
      read = pde.read;
      write = pde.write;
      out.pdeHit = true;
    }
  }
  for (;;) {
    const shift = 12 + 9 * (level - 1);
    const pa = table + (u64ShrLo(iovaHi, iovaLo, shift) & 0x1ff) * 8;
    let lo = mem.read32(pa);
    const hi = mem.read32(pa + 4);
    if ((lo & PTE_PR) === 0) {
      out.status = WALK_NOT_PRESENT;
      return out;
    }
    read = read && (hi & PTE_IR_HI) !== 0;
    write = write && (hi & PTE_IW_HI) !== 0;
    const nl = (lo >>> PTE_NL_SHIFT) & 7;

    if (nl === 0 || nl === NL_SIZED_LEAF) {
      let sizeLg2 = shift;
      if (nl === NL_SIZED_LEAF) {
        // Ones from address bit 12 upwards: 0 ones = 8 KiB, 1 = 16 KiB, ...
        sizeLg2 = 13 + ffz64(u64ShrHi(hi, lo, 12), u64ShrLo(hi, lo, 12));
        // The size must lie strictly between this level's entry and table sizes.
        if (sizeLg2 <= shift || sizeLg2 >= shift + 9) {
          out.status = WALK_RESERVED;
          return out;
        }
      }
      out.read = read;
      out.write = write;
      out.sizeLg2 = sizeLg2;
      out.oaHi = hi & PTE_ADDR_HI & ~maskHi(sizeLg2);
      out.oaLo = lo & PTE_ADDR_LO & ~maskLo(sizeLg2);
      out.leafPa = pa;
      const isWrite = (flags & WALK_WRITE) !== 0;
      if (isWrite ? !write : !read) {
        out.status = WALK_PERMISSION;
        out.dirty = (lo & PTE_D) !== 0;
        return out;
      }
      let set = 0;
      if (flags & WALK_UPDATE_A) set |= PTE_A;
      if (isWrite && flags & WALK_UPDATE_D) set |= PTE_D;
      if ((lo & set) !== set) {
        mem.or32(pa, set);
        lo |= set;
      }
      out.dirty = (lo & PTE_D) !== 0;
      out.status = WALK_OK;
      return out;
    }

    // A directory entry: it must point to a lower level.
    if (level === 1 || nl >= level) {
      out.status = WALK_RESERVED;
      return out;
    }
    if (nl < level - 1) {
      // Skipped levels translate nothing, so their IOVA bits must be zero.
      const s = 12 + 9 * nl;
      const w = 9 * (level - 1 - nl);
      if (((u64ShrLo(iovaHi, iovaLo, s) & maskLo(w)) | (u64ShrHi(iovaHi, iovaLo, s) & maskHi(w))) !== 0) {
        out.status = WALK_NOT_PRESENT;
        return out;
      }
    }
    table = u64ToNumber(hi & PTE_ADDR_HI, lo & PTE_ADDR_LO);
    level = nl;
    if (cache !== null) {
      const span = pdeSpanLg2(level);
      cache.pdeInsert(tag, {
        level,
        baseHi: iovaHi & ~maskHi(span),
        baseLo: iovaLo & ~maskLo(span),
        tablePa: table,
        read,
        write,
      });
    }
  }
}
