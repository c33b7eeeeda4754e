/**
 * 64-bit unsigned arithmetic without BigInt.
 *
 * A u64 travels as two words: `hi` (bits 63:32) and `lo` (bits 31:0), each an
 * int32 bit pattern (what `|0` and the bitwise operators produce, and what an
 * Int32Array holds). Functions that produce a u64 come in `...Hi`/`...Lo`
 * pairs so the hot path never allocates; both halves take the same inputs.
 *
 * At the API edge a u64 is a {@link U64}: a safe-integer `number` or a
 * `bigint`. Outputs use a number when the value is a safe integer and a bigint
 * otherwise, so any output can be passed back in as an input.
 */
import { argDescribe } from './arg.js';
import { PtError } from './errno.js';

/** A u64 at the API edge: a non-negative safe integer or a bigint < 2^64. */
export type U64 = number | bigint;

const TWO32 = 4294967296;
const TWO_NEG32 = 2 ** -32;
/** 2^53 / 2^32: the high word of the first unsafe integer. */
const SAFE_HI_LIMIT = 0x200000;
const U64_LIMIT = 1n << 64n;

/** A mutable u64 register (two int32 words), for out-parameters and cold code. */
export class U64Pair {
  hi: number;
  lo: number;

  constructor(hi = 0, lo = 0) {
    this.hi = hi | 0;
    this.lo = lo | 0;
  }

  set(hi: number, lo: number): this {
    this.hi = hi | 0;
    this.lo = lo | 0;
    return this;
  }

  /** Load a validated API value; throws {@link PtError} on bad input. */
  setValue(v: U64, what = 'value'): this {
    u64Split(v, this, what);
    return this;
  }

  value(): U64 {
    return u64Value(this.hi, this.lo);
  }

  bigint(): bigint {
    return u64ToBigInt(this.hi, this.lo);
  }

  hex(): string {
    return u64Hex(this.hi, this.lo);
  }

  isZero(): boolean {
    return (this.hi | this.lo) === 0;
  }
}

/** Why `v` is not a valid u64, or undefined if it is. */
export function u64Invalid(v: unknown): 'EINVAL' | 'EOVERFLOW' | undefined {
  if (typeof v === 'number') {
    return Number.isSafeInteger(v) && v >= 0 ? undefined : 'EINVAL';
  }
  if (typeof v === 'bigint') {
    if (v < 0n) return 'EINVAL';
    return v < U64_LIMIT ? undefined : 'EOVERFLOW';
  }
  return 'EINVAL';
}

function describe(v: unknown): string {
  return typeof v === 'bigint' ? `${v}n` : argDescribe(v);
}

/**
 * Validate an API value and split it into `out`. Non-integers, negative or
 * unsafe numbers and non-numbers are EINVAL; bigints >= 2^64 are EOVERFLOW.
 */
export function u64Split(v: unknown, out: U64Pair, what = 'value'): void {
  // The common case inline and small (a safe non-negative integer number);
  // every other value, valid or not, out of line.
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER && Math.floor(v) === v) {
    // v * 2^-32 is exact for safe integers and cheaper than a division.
    out.hi = (v * TWO_NEG32) | 0;
    out.lo = v | 0;
    return;
  }
  u64SplitSlow(v, out, what);
}

function u64SplitSlow(v: unknown, out: U64Pair, what: string): void {
  if (typeof v === 'number') throw new PtError('EINVAL', `${what} ${describe(v)} is not a non-negative safe integer`);
  if (typeof v === 'bigint') {
    if (v < 0n) throw new PtError('EINVAL', `${what} ${describe(v)} is negative`);
    if (v >= U64_LIMIT) throw new PtError('EOVERFLOW', `${what} ${describe(v)} does not fit in 64 bits`);
    out.hi = hiOfBig(v);
    out.lo = loOfBig(v);
    return;
  }
  throw new PtError('EINVAL', `${what} must be a number or bigint, got ${typeof v}`);
}

/** Parse a validated API value to a bigint (cold paths). */
export function toBigInt(v: U64, what = 'value'): bigint {
  const code = u64Invalid(v);
  if (code !== undefined) throw new PtError(code, `${what} ${describe(v)} is not a u64`);
  return BigInt(v);
}

/** High word of a non-negative safe integer. */
export function numberHi(v: number): number {
  return (v / TWO32) | 0;
}

/** Low word of a non-negative safe integer. */
export function numberLo(v: number): number {
  return v | 0;
}

/** True if the u64 is a safe integer (< 2^53). */
export function u64IsSafe(hi: number, _lo: number): boolean {
  return hi >>> 0 < SAFE_HI_LIMIT;
}

/** The value as a number; exact only when {@link u64IsSafe}. */
export function u64ToNumber(hi: number, lo: number): number {
  return (hi >>> 0) * TWO32 + (lo >>> 0);
}

export function u64ToBigInt(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** High word of a bigint taken mod 2^64 (cold paths: the API edge, models, tests). */
export function hiOfBig(v: bigint): number {
  return Number(BigInt.asUintN(32, v >> 32n)) | 0;
}

/** Low word of a bigint taken mod 2^64. */
export function loOfBig(v: bigint): number {
  return Number(BigInt.asUintN(32, v)) | 0;
}

/** API output form: a number when safe, else a bigint. */
export function u64Value(hi: number, lo: number): U64 {
  return hi >>> 0 < SAFE_HI_LIMIT ? u64ToNumber(hi, lo) : u64ToBigInt(hi, lo);
}

/** Lowercase hex with a 0x prefix and no leading zeros, e.g. "0x1000", "0x0". */
export function u64Hex(hi: number, lo: number): string {
  if (hi === 0) return '0x' + (lo >>> 0).toString(16);
  return '0x' + (hi >>> 0).toString(16) + (lo >>> 0).toString(16).padStart(8, '0');
}

/** Hex of an API value. */
export function toHex(v: U64): string {
  return '0x' + toBigInt(v).toString(16);
}

/** Parse "0x..." or decimal text (or a U64) into a bigint u64; throws PtError. */
export function parseU64(text: string | U64, what = 'value'): bigint {
  if (typeof text !== 'string') return toBigInt(text, what);
  const t = text.trim().replace(/_/g, '');
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(t)) {
    throw new PtError('EINVAL', `${what} "${text}" is not a hex or decimal integer`);
  }
  return toBigInt(BigInt(t), what);
}

/* ---- comparisons ---- */

export function u64Eq(ah: number, al: number, bh: number, bl: number): boolean {
  return (ah | 0) === (bh | 0) && (al | 0) === (bl | 0);
}

/** Unsigned a < b. */
export function u64Lt(ah: number, al: number, bh: number, bl: number): boolean {
  const a = ah >>> 0;
  const b = bh >>> 0;
  return a < b || (a === b && al >>> 0 < bl >>> 0);
}

/** Unsigned a <= b. */
export function u64Le(ah: number, al: number, bh: number, bl: number): boolean {
  return !u64Lt(bh, bl, ah, al);
}

/* ---- add / subtract (mod 2^64) ---- */

/*
 * Carries and borrows are unsigned 32-bit compares turned into 0 or 1
 * (`+(x < y)`, a setcc, no branch), and every helper is a leaf: nothing here
 * calls another helper, so V8 inlines them into the hot walks without
 * spending its inlining budget twice (measured: nested helpers left
 * makeRange's and the gather's arithmetic as calls).
 */

/** Carry out of the low words of a + b: 0 or 1. */
export function u64AddCarry(al: number, bl: number): number {
  return +((al + bl) >>> 0 < al >>> 0);
}

/**
 * Low word first: the unsigned sum of the low words (0..2^33-2). `sum | 0`
 * is the low word of a + b and {@link u64AddHiOfSum} makes the high word from
 * it, so the low words are added once.
 */
export function u64AddLoSum(al: number, bl: number): number {
  return (al >>> 0) + (bl >>> 0);
}

/** High word of a + b given the low words' {@link u64AddLoSum}. */
export function u64AddHiOfSum(loSum: number, ah: number, bh: number): number {
  return (ah + bh + +(loSum > 0xffffffff)) | 0;
}

export function u64AddLo(_ah: number, al: number, _bh: number, bl: number): number {
  return (al + bl) | 0;
}

export function u64AddHi(ah: number, al: number, bh: number, bl: number): number {
  return (ah + bh + +((al + bl) >>> 0 < al >>> 0)) | 0;
}

/** True if a + b wraps past 2^64 - 1. */
export function u64AddOverflows(ah: number, al: number, bh: number, bl: number): boolean {
  return (ah >>> 0) + (bh >>> 0) + +((al + bl) >>> 0 < al >>> 0) > 0xffffffff;
}

/** Borrow out of the low words of a - b: 1 when al < bl unsigned, else 0. */
export function u64SubBorrow(al: number, bl: number): number {
  return +(al >>> 0 < bl >>> 0);
}

export function u64SubLo(_ah: number, al: number, _bh: number, bl: number): number {
  return (al - bl) | 0;
}

export function u64SubHi(ah: number, al: number, bh: number, bl: number): number {
  return (ah - bh - +(al >>> 0 < bl >>> 0)) | 0;
}

/** Low word of a + 1. */
export function u64IncLo(_hi: number, lo: number): number {
  return (lo + 1) | 0;
}

/** High word of a + 1 (carries when the low word is all ones). */
export function u64IncHi(hi: number, lo: number): number {
  return (hi + +(lo === -1)) | 0;
}

/** Low word of a - 1. */
export function u64DecLo(_hi: number, lo: number): number {
  return (lo - 1) | 0;
}

/** High word of a - 1 (borrows when the low word is 0). */
export function u64DecHi(hi: number, lo: number): number {
  return (hi - +(lo === 0)) | 0;
}

/* ---- shifts ---- */

/*
 * Split by range, as noble-hashes does, for callers that know which half of
 * the range the count is in: no branch inside. JS shifts look only at
 * count & 31, so the small forms build the cross-word part in two steps
 * (`(hi << 1) << (31 - s)`) to stay right at s = 0.
 */

/** Low word of a >> s (logical), s in 0..31. */
export function u64ShrSmallLo(hi: number, lo: number, s: number): number {
  return ((hi << 1) << (31 - s)) | (lo >>> s);
}

/** High word of a >> s (logical), s in 0..31. */
export function u64ShrSmallHi(hi: number, _lo: number, s: number): number {
  return (hi >>> s) | 0;
}

/** Low word of a >> s (logical), s in 32..63; the high word is 0. */
export function u64ShrBigLo(hi: number, _lo: number, s: number): number {
  return (hi >>> (s - 32)) | 0;
}

/** Low word of a << s, s in 0..31. */
export function u64ShlSmallLo(_hi: number, lo: number, s: number): number {
  return lo << s;
}

/** High word of a << s, s in 0..31. */
export function u64ShlSmallHi(hi: number, lo: number, s: number): number {
  return (hi << s) | ((lo >>> 1) >>> (31 - s));
}

/** High word of a << s, s in 32..63; the low word is 0. */
export function u64ShlBigHi(_hi: number, lo: number, s: number): number {
  return lo << (s - 32);
}

/* Any count 0..64 (and past it: 0); leaves, like the forms above. */

/** Low word of a >> s (logical). */
export function u64ShrLo(hi: number, lo: number, s: number): number {
  if (s < 32) return ((hi << 1) << (31 - s)) | (lo >>> s);
  return s < 64 ? (hi >>> (s - 32)) | 0 : 0;
}

/** High word of a >> s (logical). */
export function u64ShrHi(hi: number, _lo: number, s: number): number {
  return s < 32 ? (hi >>> s) | 0 : 0;
}

/** Low word of a << s. */
export function u64ShlLo(_hi: number, lo: number, s: number): number {
  return s < 32 ? lo << s : 0;
}

/** High word of a << s. */
export function u64ShlHi(hi: number, lo: number, s: number): number {
  if (s < 32) return (hi << s) | ((lo >>> 1) >>> (31 - s));
  return s < 64 ? lo << (s - 32) : 0;
}

/** a >> s as a number, for results known to be < 2^53 (counts, indexes). */
export function u64ShrToNumber(hi: number, lo: number, s: number): number {
  return u64ToNumber(u64ShrHi(hi, lo, s), u64ShrLo(hi, lo, s));
}

/* ---- bit scans ---- */

/** 1-based index of the highest set bit; 0 for 0 (the kernel's fls). */
export function fls32(a: number): number {
  return 32 - Math.clz32(a);
}

/** 0-based index of the lowest set bit (the kernel's __ffs); 32 for 0, where the kernel is undefined. */
export function ffs32(a: number): number {
  return a === 0 ? 32 : 31 - Math.clz32(a & -a);
}

/** 0-based index of the lowest clear bit; 32 for all-ones, where the kernel is undefined. */
export function ffz32(a: number): number {
  return ffs32(~a);
}

/** 1-based index of the highest set bit of a u64; 0 for 0, 64 for all-ones. */
export function fls64(hi: number, lo: number): number {
  return hi !== 0 ? 64 - Math.clz32(hi) : 32 - Math.clz32(lo);
}

/** 0-based index of the lowest set bit of a u64; 64 for 0, where the kernel is undefined. */
export function ffs64(hi: number, lo: number): number {
  if (lo !== 0) return 31 - Math.clz32(lo & -lo);
  if (hi !== 0) return 63 - Math.clz32(hi & -hi);
  return 64;
}

/** 0-based index of the lowest clear bit of a u64; 64 for all-ones. */
export function ffz64(hi: number, lo: number): number {
  return ffs64(~hi, ~lo);
}

/**
 * log2 of a power of two (the kernel's ilog2(): the index of the highest set
 * bit of any non-zero u64); -1 for 0. No branch: clz32(hi) >>> 5 is 1 only
 * when the high word is 0, and then the low word's bits count.
 */
export function u64Log2(hi: number, lo: number): number {
  const c = Math.clz32(hi);
  return 63 - c - (Math.clz32(lo) & -(c >>> 5));
}

/* ---- masks ---- */

/** Low word of 2^b - 1, b in 0..64. */
export function maskLo(b: number): number {
  return b >= 32 ? -1 : ~(-1 << b);
}

/** High word of 2^b - 1, b in 0..64. */
export function maskHi(b: number): number {
  if (b <= 32) return 0;
  return b >= 64 ? -1 : ~(-1 << (b - 32));
}

/** Bit n (0..63) as the low / high word of a u64. */
export function bitLo(n: number): number {
  return n < 32 ? 1 << n : 0;
}

export function bitHi(n: number): number {
  return n >= 32 && n < 64 ? 1 << (n - 32) : 0;
}

/** True if bit n (0..63) is set. */
export function u64TestBit(hi: number, lo: number, n: number): boolean {
  return n < 32 ? (lo & (1 << n)) !== 0 : (hi & (1 << (n - 32))) !== 0;
}
