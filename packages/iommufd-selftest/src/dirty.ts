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

/**
 * struct iova_bitmap: bit i stands for [iova + i * pageSize, + pageSize),
 * stored little-endian from a user address of any alignment.
 */
export class UserIovaBitmap implements IovaBitmap {
  readonly mm: Mm;
  readonly data: number;
  readonly iova: bigint;
  readonly length: bigint;
  readonly pageSize: bigint;

  constructor(mm: Mm, data: number, iova: bigint, length: bigint, pageSize: bigint) {
    this.mm = mm;
    this.data = data;
    this.iova = iova;
    this.length = length;
    this.pageSize = pageSize;
  }

  /** iova_bitmap_set(): mark every page [iova, iova + len) touches. */
  set(iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void {
    const iova = u64ToBigInt(iovaHi, iovaLo);
    const len = u64ToBigInt(lenHi, lenLo);
    const first = Number((iova - this.iova) / this.pageSize);
    const last = Number((iova + len - 1n - this.iova) / this.pageSize);
    this.setBits(first, last);
  }

  setBits(first: number, last: number): void {
    const b0 = first >> 3;
    const b1 = last >> 3;
    const bytes = this.mm.read(this.data + b0, b1 - b0 + 1);
    for (let bit = first; bit <= last; bit++) bytes[(bit >> 3) - b0]! |= 1 << (bit & 7);
    this.mm.write(this.data + b0, bytes);
  }
}

/**
 * iommufd_check_iova_range(): the bitmap range must not wrap and must be
 * aligned to the IOAS and to the bitmap page size. Returns the last IOVA.
 */
export function checkDirtyRange(iopt: IoPagetable, iova: bigint, length: bigint, pageSize: bigint): bigint {
  // length - 1 in u64 arithmetic: a zero length from IOVA 0 means all 2^64 bytes.
  const last = iova + ((length - 1n) & ULONG_MAX);
  if (last > ULONG_MAX) fail('EOVERFLOW', 'IOVA + length');
  const end = (last + 1n) & ULONG_MAX;
  const align = iopt.iovaAlignment - 1n;
  if (iova & align || end & align) fail('EINVAL', 'range not aligned to the IOAS');
  if (pageSize === 0n) fail('EINVAL', 'page size 0');
  if (iova % pageSize || end % pageSize) fail('EINVAL', 'range not aligned to the page size');
  return last;
}

/**
 * iopt_read_and_clear_dirty_data(): walk the areas under the range and let
 * the domain report dirty IOVA into the bitmap. Holes are skipped silently
 * (the kernel drops that error), and unless NO_CLEAR the IOTLB is flushed.
 */
export function readAndClearDirtyData(iopt: IoPagetable, domain: MockDomain, flags: number, bitmap: UserIovaBitmap): void {
  const last = checkDirtyRange(iopt, bitmap.iova, bitmap.length, bitmap.pageSize);
  if (!domain.hasDirtyOps) fail('EOPNOTSUPP', 'domain has no dirty ops');
  const gather = new IommuIotlbGather();
  for (const { area, cur } of iopt.contigAreas(bitmap.iova, last).areas) {
    const end = minBig(last, area.last);
    domain.readAndClearDirty(cur, end - cur + 1n, flags, bitmap, gather);
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

/**
 * The DIRTY test op (iommufd_test_dirty): for each set bit i of the user
 * bitmap, set_dirty(iova + i * pageSize). Returns the number of set bits
 * (set_dirty's own result is ignored, as in the kernel).
 */
export function testDirty(domain: MockDomain, mm: Mm, iova: bigint, length: bigint, pageSize: bigint, uptr: number): number {
  if (!pageSize || !length || iova % pageSize || length % pageSize || !uptr) fail('EINVAL', 'bad dirty range');
  if (!(domain.flags & MOCK_DIRTY_TRACK) || !domain.hasDirtyOps) fail('EINVAL', 'dirty tracking is not enabled');
  const max = Number(length / pageSize);
  const bytes = mm.read(uptr, Math.ceil(max / 8));
  let count = 0;
  for (let i = 0; i < max; i++) {
    if (!(bytes[i >> 3]! & (1 << (i & 7)))) continue;
    try {
      domain.setDirty(u64OfBig(iova + BigInt(i) * pageSize));
    } catch {
      // The kernel does not look at set_dirty's result.
    }
    count++;
  }
  return count;
}
