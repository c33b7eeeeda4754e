/**
 * u64 values as bigint, for cold code only: the API edge, models, test
 * suites, the iommufd bookkeeping. The hot path uses the word helpers in
 * u64.ts; these keep the same unsigned 64-bit meaning in bigint form.
 */
import { U64Pair, u64ToBigInt, type U64 } from './u64.js';

export const U64_MAX = (1n << 64n) - 1n;
/** ULONG_MAX on a 64-bit kernel. */
export const ULONG_MAX = U64_MAX;

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** The API form of a bigint: a number when it is a safe integer, else the bigint itself. */
export function u64OfBig(v: bigint): U64 {
  return v <= SAFE_MAX ? Number(v) : v;
}

/** log2_to_max_int(): 2^b - 1 for b in 0..64. */
export function log2ToMaxIntBig(b: number): bigint {
  return b >= 64 ? U64_MAX : (1n << BigInt(b)) - 1n;
}

/** log2_set_mod(): a with its low b bits replaced by val (val < 2^b). */
export function log2SetModBig(a: bigint, val: bigint, b: number): bigint {
  return (a & ~log2ToMaxIntBig(b) & U64_MAX) | val;
}

/**
 * The last byte of [start, start + length), or undefined when it is past
 * U64_MAX (check_add_overflow() of start and length - 1).
 */
export function lastOfBig(start: bigint, length: bigint): bigint | undefined {
  const last = start + length - 1n;
  return last > U64_MAX ? undefined : last;
}

/** roundup_pow_of_two() for values up to 2^63. */
export function roundupPowOfTwoBig(v: bigint): bigint {
  let p = 1n;
  while (p < v) p <<= 1n;
  return p;
}

/** 1 << __ffs(v): the lowest set bit of a non-zero value. */
export function lowestBitBig(v: bigint): bigint {
  return v & -v;
}

export function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

export function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

const pair = new U64Pair();

/** What a function writing a {@link U64Pair} out-parameter wrote, as a bigint. */
export function pairOutBig(fn: (out: U64Pair) => void): bigint {
  fn(pair);
  return u64ToBigInt(pair.hi, pair.lo);
}
