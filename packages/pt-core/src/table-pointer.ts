/**
 * The one check a walk makes on memory it did not write itself: a table
 * pointer it is about to follow must name an allocated table page of the
 * table memory. A guest-built or restored table can hold anything; without
 * this a walk would read words outside the arena (undefined) or a page never
 * allocated, and map would write there. One range test and one byte load per
 * table visited, not per entry.
 */
import type { PtCommon } from './common.js';
import { Errno } from './errno.js';

/** True if `table` is the first byte of an allocated block of the table memory. */
export function ptTablePointerOk(common: PtCommon, table: number): boolean {
  const off = table - common.memBasePa;
  return off >= 0 && off < common.memBytes && (off & 0xfff) === 0 && common.memPageMeta[off >>> 12] !== 0;
}

function faultText(common: PtCommon, table: number, level: number): string {
  const off = table - common.memBasePa;
  const where =
    off >= 0 && off < common.memBytes && Number.isInteger(off) ? 'a page that holds no allocated table' : 'outside the table memory';
  return `table pointer 0x${table.toString(16)} for level ${level} leads to ${where}`;
}

/**
 * A walk met a bad pointer: remember why (the op's error names it) and
 * return -EFAULT for the walk to end with, as any walk error.
 */
export function ptTablePointerFault(common: PtCommon, table: number, level: number): number {
  common.lastFault = faultText(common, table, level);
  return -Errno.EFAULT;
}
