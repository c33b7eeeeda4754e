/**
 * Dirty tracking through iommufd: IOMMU_HWPT_SET_DIRTY_TRACKING,
 * IOMMU_HWPT_GET_DIRTY_BITMAP (the domain's read_and_clear_dirty reported
 * into a user bitmap, struct iova_bitmap) and the selftest's DIRTY op, which
 * plays the hardware by setting dirty bits through set_dirty.
 */
import { IommuIotlbGather, type IovaBitmap } from '@genpt/iommu-ops';
import { IOMMU_DIRTY_NO_CLEAR, minBig, u64OfBig, u64ToBigInt, ULONG_MAX } from '@genpt/pt-core';
import { fail } from './errors.js';
import type { IoPagetable } from './iopt.js';
import { MOCK_DIRTY_TRACK, type MockDomain } from './mock-domain.js';
import type { Mm } from './mm.js';

/** __ffs() of a non-zero u64. */
function ffs(v: bigint): bigint {
  if (v === 0n) fail('EINVAL', 'page size 0');
  let n = 0n;
  while (!((v >> n) & 1n)) n++;
  return n;
}

/**
 * struct iova_bitmap over a user bitmap of any alignment: bit i stands for
 * [iova + i * 2^pgshift, + 2^pgshift), pgshift being __ffs(page_size) as in
 * the kernel, stored little-endian in u64 words from the user address.
 *
 * The kernel pins the bitmap's user pages window by window (FOLL_WRITE) and
 * reports only while the pin works: the walk covers the u64 words that reach
 * into the run of writable pages from `data`, and bits past that run are
 * dropped. iommu_read_and_clear_dirty() ignores iova_bitmap_for_each()'s
 * error, so a bitmap nothing of which can be pinned reports and clears
 * nothing, and the ioctl still succeeds.
 */
export class UserIovaBitmap implements IovaBitmap {
  readonly mm: Mm;
  /** The user address, as a number (nothing is mapped where that is inexact, above 2^53). */
  readonly data: number;
  readonly iova: bigint;
  readonly length: bigint;
  readonly pageSize: bigint;
  readonly pgshift: bigint;
  /** Bytes of the bitmap, from data, that can be pinned. */
  readonly pinnedBytes: number;
  /** The last IOVA the walk covers, or -1n when nothing could be pinned. */
  readonly coveredLast: bigint;

  /** The range must have passed checkDirtyRange() (pageSize non-zero). */
  constructor(mm: Mm, data: bigint, iova: bigint, length: bigint, pageSize: bigint) {
    this.mm = mm;
    this.data = Number(data);
    this.iova = iova;
    this.length = length;
    this.pageSize = pageSize;
    this.pgshift = ffs(pageSize);
    // mapped_total_index: u64 words for bits 0 .. (length - 1) >> pgshift.
    const lastBit = ((length - 1n) & ULONG_MAX) >> this.pgshift;
    const words = lastBit / 64n + 1n;
    const need = words * 8n;
    // The kernel pins a window at a time; a window that pins nothing ends the walk.
    const probe = need < BigInt(Number.MAX_SAFE_INTEGER) ? Number(need) : Number.MAX_SAFE_INTEGER;
    this.pinnedBytes = data >= 1n << 53n ? 0 : mm.accessibleBytes(this.data, probe, true);
    const coveredWords = minBig(words, (BigInt(this.pinnedBytes) + 7n) / 8n);
    this.coveredLast = coveredWords === 0n ? -1n : iova + minBig((length - 1n) & ULONG_MAX, ((coveredWords * 64n) << this.pgshift) - 1n);
  }

  /** iova_bitmap_set(): mark every page [iova, iova + len) touches. */
  set(iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void {
    const iova = u64ToBigInt(iovaHi, iovaLo);
    const len = u64ToBigInt(lenHi, lenLo);
    const first = Number((iova - this.iova) >> this.pgshift);
    const last = Number((iova + len - 1n - this.iova) >> this.pgshift);
    this.setBits(first, last);
  }

  /** Set bits first..last, those in pinned bytes only (the kernel's set-ahead fails past them). */
  setBits(first: number, last: number): void {
    const b0 = first >> 3;
    const b1 = Math.min(last >> 3, this.pinnedBytes - 1);
    if (b0 > b1) return;
    const bytes = this.mm.read(this.data + b0, b1 - b0 + 1);
    for (let bit = first; bit <= last && bit >> 3 <= b1; bit++) bytes[(bit >> 3) - b0]! |= 1 << (bit & 7);
    this.mm.write(this.data + b0, bytes);
  }
}

/**
 * iommufd_check_iova_range(): the bitmap range must not wrap and must be
 * aligned to the IOAS and to the bitmap page size (as masks, like the
 * kernel). Returns the last IOVA.
 */
export function checkDirtyRange(iopt: IoPagetable, iova: bigint, length: bigint, pageSize: bigint): bigint {
  // length - 1 in u64 arithmetic: a zero length from IOVA 0 means all 2^64 bytes.
  const last = iova + ((length - 1n) & ULONG_MAX);
  if (last > ULONG_MAX) fail('EOVERFLOW', 'IOVA + length');
  const end = (last + 1n) & ULONG_MAX;
  const align = iopt.iovaAlignment - 1n;
  if (iova & align || end & align) fail('EINVAL', 'range not aligned to the IOAS');
  if (pageSize === 0n) fail('EINVAL', 'page size 0');
  if (iova & (pageSize - 1n) || end & (pageSize - 1n)) fail('EINVAL', 'range not aligned to the page size');
  return last;
}

/**
 * iopt_read_and_clear_dirty_data(): check the range, then walk the areas
 * under the part of it the pinned bitmap covers and let the domain report
 * dirty IOVA into the bitmap. The walk stops at the first hole (the kernel
 * drops that error too), and unless NO_CLEAR the IOTLB is flushed.
 */
export function readAndClearDirtyData(
  iopt: IoPagetable,
  domain: MockDomain,
  flags: number,
  mm: Mm,
  data: bigint,
  iova: bigint,
  length: bigint,
  pageSize: bigint,
): void {
  checkDirtyRange(iopt, iova, length, pageSize);
  if (!domain.hasDirtyOps) fail('EOPNOTSUPP', 'domain has no dirty ops');
  const bitmap = new UserIovaBitmap(mm, data, iova, length, pageSize);
  const gather = new IommuIotlbGather();
  if (bitmap.coveredLast >= iova) {
    for (const { area, cur } of iopt.contigAreas(iova, bitmap.coveredLast).areas) {
      const end = minBig(bitmap.coveredLast, area.last);
      domain.readAndClearDirty(cur, end - cur + 1n, flags, bitmap, gather);
    }
  }
  if (!(flags & IOMMU_DIRTY_NO_CLEAR)) domain.iotlbSync(gather);
}

/**
 * iopt_set_dirty_tracking(): enabling first clears every dirty bit under the
 * areas so tracking starts from a clean snapshot.
 */
export function setDirtyTracking(iopt: IoPagetable, domain: MockDomain, enable: boolean): void {
  if (!domain.hasDirtyOps) fail('EOPNOTSUPP', 'domain has no dirty ops');
  if (enable) {
    const gather = new IommuIotlbGather();
    for (const area of iopt.areas.all()) {
      if (area.pages === null) continue;
      domain.readAndClearDirty(area.start, area.length, 0, null, gather);
    }
    domain.iotlbSync(gather);
  }
  domain.setDirtyTracking(enable);
}

/** kvzalloc() refuses more than INT_MAX bytes (and the selftest's bitmap size is computed without wrapping). */
const KVMALLOC_MAX = 0x7fffffffn;
/** How much of the user bitmap the DIRTY op reads at a time. */
const CHUNK = 65536;

/**
 * The DIRTY test op (iommufd_test_dirty): for each set bit i of the user
 * bitmap, set_dirty(iova + i * pageSize). Returns the number of set bits
 * (set_dirty's own result is ignored, as in the kernel). The arguments are
 * checked before the HWPT is looked up; a bitmap past INT_MAX bytes is
 * ENOMEM, and the whole bitmap is copied in first (EFAULT).
 */
export function testDirty(getDomain: () => MockDomain, mm: Mm, iova: bigint, length: bigint, pageSize: bigint, uptr: bigint): number {
  if (!pageSize || !length || iova % pageSize || length % pageSize || !uptr) fail('EINVAL', 'bad dirty range');
  const domain = getDomain();
  if (!(domain.flags & MOCK_DIRTY_TRACK) || !domain.hasDirtyOps) fail('EINVAL', 'dirty tracking is not enabled');
  const max = length / pageSize;
  if (((max + 63n) / 64n) * 8n > KVMALLOC_MAX) fail('ENOMEM', 'bitmap too large');
  const nbits = Number(max);
  const nbytes = Math.ceil(nbits / 8);
  // Nothing is mapped above 2^47, so a uptr past 2^53 (inexact as a number) cannot be read.
  const va = uptr < 1n << 53n ? Number(uptr) : -1;
  if (va < 0 || mm.accessibleBytes(va, nbytes, false) < nbytes) fail('EFAULT', 'bitmap');
  let count = 0;
  for (let off = 0; off < nbytes; off += CHUNK) {
    const bytes = mm.read(va + off, Math.min(CHUNK, nbytes - off));
    bytes.forEach((b, j) => {
      for (let k = 0; b && k < 8; k++) {
        const i = (off + j) * 8 + k;
        if (!(b & (1 << k)) || i >= nbits) continue;
        try {
          // unsigned long arithmetic, as the kernel's
          domain.setDirty(u64OfBig((iova + BigInt(i) * pageSize) & ULONG_MAX));
        } catch {
          // The kernel does not look at set_dirty's result.
        }
        count++;
      }
    });
  }
  return count;
}
