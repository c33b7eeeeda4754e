/**
 * IOVAs and lengths as the iommufd uAPI carries them: unsigned 64-bit (on a
 * 64-bit kernel unsigned long is u64 too). The IOAS bookkeeping is not a hot
 * path, so it works in bigint; page table calls get safe numbers when they fit.
 */
import { fail } from './errors.js';

export const U64_MAX = (1n << 64n) - 1n;
/** ULONG_MAX on a 64-bit kernel. */
export const ULONG_MAX = U64_MAX;

/** A u64 argument as bigint: a non-negative safe integer or a bigint below 2^64, else EINVAL. */
export function u64(v: number | bigint, what = 'value'): bigint {
  if (typeof v === 'bigint') {
    if (v < 0n || v > U64_MAX) fail('EINVAL', `${what} is not a u64`);
    return v;
  }
  if (!Number.isSafeInteger(v) || v < 0) fail('EINVAL', `${what} is not a u64`);
  return BigInt(v);
}

/** a + b - 1 as the last byte of a range, or undefined when it wraps past 2^64 (check_add_overflow). */
export function lastOf(start: bigint, length: bigint): bigint | undefined {
  const last = start + length - 1n;
  return last > U64_MAX ? undefined : last;
}

/** A safe number when the value fits, else the bigint (for PtIommu's U64 arguments). */
export function toU64Arg(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** Round up to a power of two (roundup_pow_of_two) for values below 2^63. */
export function roundupPowOfTwo(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

/** 1 << __ffs(v): the lowest set bit of a non-zero value. */
export function lowestBit(v: bigint): bigint {
  return v & -v;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
