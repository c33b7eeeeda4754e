/** BigInt <-> word pairs for the suites (test code, not a hot path). */
import { U64Pair, u64ToBigInt } from '@genpt/pt-core';

export const M64 = (1n << 64n) - 1n;

export function hiOf(v: bigint): number {
  return Number((v >> 32n) & 0xffffffffn) | 0;
}

export function loOf(v: bigint): number {
  return Number(v & 0xffffffffn) | 0;
}

/** 2^b - 1 for b in 0..64. */
export function maxInt(b: number): bigint {
  return b >= 64 ? M64 : (1n << BigInt(b)) - 1n;
}

/** log2_set_mod(a, 0, b): clear the low b bits. */
export function clearLow(a: bigint, b: number): bigint {
  return a & ~maxInt(b) & M64;
}

const pair = new U64Pair();

/** A format function's U64Pair output as a bigint. */
export function pairOut(fn: (out: U64Pair) => void): bigint {
  fn(pair);
  return u64ToBigInt(pair.hi, pair.lo);
}
