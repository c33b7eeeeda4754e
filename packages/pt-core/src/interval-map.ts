/**
 * An interval map of VA -> (OA, prot): disjoint ranges [start, last] with an
 * inclusive last, as the kernel's interval trees and maple tree keep them (a
 * range ending at 2^64 - 1 needs no 2^64), bigint keys over the whole 64-bit
 * space. It is the reference the test suites, the golden decoder and the
 * driver tests check page tables against, so it is plain: a sorted array
 * and binary search, never on a hot path.
 */
import { PtError } from './errno.js';
import { U64_MAX } from './u64-big.js';

export interface IntervalMapRange {
  readonly start: bigint;
  /** Inclusive. */
  readonly last: bigint;
  /** OA of start; each following byte maps to the next OA. */
  readonly oa: bigint;
  readonly prot: number;
}

/** What find() returns: the range holding the VA and the OA the VA maps to. */
export interface IntervalMapHit {
  readonly range: IntervalMapRange;
  readonly oa: bigint;
}

function checkU64(v: bigint, what: string): void {
  if (typeof v !== 'bigint') throw new PtError('EINVAL', `${what} must be a bigint`);
  if (v < 0n || v > U64_MAX) throw new PtError(v < 0n ? 'EINVAL' : 'EOVERFLOW', `${what} 0x${v.toString(16)} is not a u64`);
}

function checkRange(start: bigint, last: bigint): void {
  checkU64(start, 'start');
  checkU64(last, 'last');
  if (last < start) throw new PtError('EINVAL', `empty range [0x${start.toString(16)}, 0x${last.toString(16)}]`);
}

/** The OA of va inside r, in u64 arithmetic (it wraps as the kernel's OA math does). */
function oaAt(r: IntervalMapRange, va: bigint): bigint {
  return (r.oa + (va - r.start)) & U64_MAX;
}

function piece(r: IntervalMapRange, start: bigint, last: bigint): IntervalMapRange {
  return { start, last, oa: oaAt(r, start), prot: r.prot };
}

export class IntervalMap {
  private ranges: IntervalMapRange[] = [];

  get size(): number {
    return this.ranges.length;
  }

  /** Index of the first range ending at or after va (ends are sorted like starts: the ranges are disjoint). */
  private firstEndingAtOrAfter(va: bigint): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ranges[mid]!.last < va) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Map [start, last] to oa with prot. Fails with EADDRINUSE if any byte of
   * it is already mapped, as the kernel's map and mtree_insert_range() do;
   * nothing changes then. Returns the stored range.
   */
  map(start: bigint, last: bigint, oa: bigint, prot = 0): IntervalMapRange {
    checkRange(start, last);
    checkU64(oa, 'oa');
    const i = this.firstEndingAtOrAfter(start);
    const next = this.ranges[i];
    if (next !== undefined && next.start <= last) {
      throw new PtError(
        'EADDRINUSE',
        `[0x${start.toString(16)}, 0x${last.toString(16)}] overlaps [0x${next.start.toString(16)}, 0x${next.last.toString(16)}]`,
      );
    }
    const r: IntervalMapRange = { start, last, oa, prot };
    this.ranges.splice(i, 0, r);
    return r;
  }

  /**
   * Unmap every byte of [start, last]: ranges inside it go, ranges partly
   * inside it keep their outside parts (with the OAs they had). Returns what
   * was unmapped, clipped to [start, last], in address order.
   */
  unmap(start: bigint, last: bigint): IntervalMapRange[] {
    checkRange(start, last);
    const i = this.firstEndingAtOrAfter(start);
    let j = i;
    const removed: IntervalMapRange[] = [];
    const kept: IntervalMapRange[] = [];
    for (; j < this.ranges.length && this.ranges[j]!.start <= last; j++) {
      const r = this.ranges[j]!;
      if (r.start < start) kept.push(piece(r, r.start, start - 1n));
      removed.push(piece(r, r.start < start ? start : r.start, r.last > last ? last : r.last));
      if (r.last > last) kept.push(piece(r, last + 1n, r.last));
    }
    this.ranges.splice(i, j - i, ...kept);
    return removed;
  }

  /** Remove one stored range whole (mtree_erase()); ENOENT if it is not in the map. */
  remove(range: IntervalMapRange): void {
    const i = this.firstEndingAtOrAfter(range.last);
    if (this.ranges[i] !== range)
      throw new PtError('ENOENT', `[0x${range.start.toString(16)}, 0x${range.last.toString(16)}] is not in the map`);
    this.ranges.splice(i, 1);
  }

  /** The range holding va and the OA va maps to, or undefined if va is not mapped. */
  find(va: bigint): IntervalMapHit | undefined {
    checkU64(va, 'va');
    const r = this.ranges[this.firstEndingAtOrAfter(va)];
    return r !== undefined && r.start <= va ? { range: r, oa: oaAt(r, va) } : undefined;
  }

  /** Every stored range with a byte in [start, last], in address order. */
  overlapping(start: bigint, last: bigint): IntervalMapRange[] {
    checkRange(start, last);
    const out: IntervalMapRange[] = [];
    for (let i = this.firstEndingAtOrAfter(start); i < this.ranges.length && this.ranges[i]!.start <= last; i++) {
      out.push(this.ranges[i]!);
    }
    return out;
  }

  /** True if any byte of [start, last] is mapped. */
  overlaps(start: bigint, last: bigint): boolean {
    checkRange(start, last);
    const r = this.ranges[this.firstEndingAtOrAfter(start)];
    return r !== undefined && r.start <= last;
  }

  /** True if every byte of [start, last] is mapped (by one range or by several that touch). */
  covers(start: bigint, last: bigint): boolean {
    checkRange(start, last);
    let at = start;
    for (let i = this.firstEndingAtOrAfter(start); i < this.ranges.length; i++) {
      const r = this.ranges[i]!;
      if (r.start > at) return false;
      if (r.last >= last) return true;
      at = r.last + 1n;
    }
    return false;
  }

  clear(): void {
    this.ranges = [];
  }

  /** The ranges in address order; a snapshot, so the map may change while iterating. */
  [Symbol.iterator](): IterableIterator<IntervalMapRange> {
    return this.ranges.slice()[Symbol.iterator]();
  }
}
