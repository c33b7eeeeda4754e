/**
 * The branch-free word helpers (carry, borrow, inc/dec, range-split shifts,
 * ilog2, bigint <-> words) against bigint arithmetic over the whole 64-bit
 * range: edge values exhaustively, random values by property.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  hiOfBig,
  loOfBig,
  u64AddCarry,
  u64AddHi,
  u64AddHiOfSum,
  u64AddLo,
  u64AddLoSum,
  u64AddOverflows,
  u64DecHi,
  u64DecLo,
  u64IncHi,
  u64IncLo,
  u64Log2,
  u64ShlBigHi,
  u64ShlHi,
  u64ShlLo,
  u64ShlSmallHi,
  u64ShlSmallLo,
  u64ShrBigLo,
  u64ShrHi,
  u64ShrLo,
  u64ShrSmallHi,
  u64ShrSmallLo,
  u64SubBorrow,
  u64SubHi,
  u64SubLo,
  u64ToBigInt,
} from '../src/index.js';
import { arbU64, big, EDGES, hiOf, loOf, M64 } from './ref.js';

const M32 = 0xffffffffn;
const pairs = EDGES.flatMap((a) => EDGES.map((b) => [a, b] as const));

function checkAdd(a: bigint, b: bigint): void {
  const [ah, al, bh, bl] = [hiOf(a), loOf(a), hiOf(b), loOf(b)];
  const sum = (a + b) & M64;
  expect(u64AddCarry(al, bl)).toBe(Number(((a & M32) + (b & M32)) >> 32n));
  expect(big(u64AddHi(ah, al, bh, bl), u64AddLo(ah, al, bh, bl))).toBe(sum);
  const loSum = u64AddLoSum(al, bl);
  expect(big(u64AddHiOfSum(loSum, ah, bh), loSum | 0)).toBe(sum);
  expect(u64AddOverflows(ah, al, bh, bl)).toBe(a + b > M64);
  expect(u64SubBorrow(al, bl)).toBe((a & M32) < (b & M32) ? 1 : 0);
  expect(big(u64SubHi(ah, al, bh, bl), u64SubLo(ah, al, bh, bl))).toBe((a - b) & M64);
}

function checkIncDec(a: bigint): void {
  const [h, l] = [hiOf(a), loOf(a)];
  expect(big(u64IncHi(h, l), u64IncLo(h, l))).toBe((a + 1n) & M64);
  expect(big(u64DecHi(h, l), u64DecLo(h, l))).toBe((a - 1n) & M64);
}

function checkShifts(a: bigint, s: number): void {
  const [h, l] = [hiOf(a), loOf(a)];
  const S = BigInt(s);
  const shr = a >> S;
  const shl = (a << S) & M64;
  if (s < 32) {
    expect(big(u64ShrSmallHi(h, l, s), u64ShrSmallLo(h, l, s))).toBe(shr);
    expect(big(u64ShlSmallHi(h, l, s), u64ShlSmallLo(h, l, s))).toBe(shl);
  } else if (s < 64) {
    expect(big(0, u64ShrBigLo(h, l, s))).toBe(shr);
    expect(big(u64ShlBigHi(h, l, s), 0)).toBe(shl);
  }
  expect(big(u64ShrHi(h, l, s), u64ShrLo(h, l, s))).toBe(shr);
  expect(big(u64ShlHi(h, l, s), u64ShlLo(h, l, s))).toBe(shl);
}

function checkLog2(a: bigint): void {
  expect(u64Log2(hiOf(a), loOf(a))).toBe(a === 0n ? -1 : a.toString(2).length - 1);
}

describe('u64 carry and borrow without a branch', () => {
  it('adds, subtracts and detects overflow at every pair of edge values', () => {
    for (const [a, b] of pairs) checkAdd(a, b);
  });

  it('increments and decrements every edge value', () => {
    for (const a of EDGES) checkIncDec(a);
  });

  it('matches bigint on random values (property)', () => {
    fc.assert(
      fc.property(arbU64, arbU64, (a, b) => {
        checkAdd(a, b);
        checkIncDec(a);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('u64 shifts split by range', () => {
  it('shift every edge value by every count 0..64 and past it', () => {
    for (const a of EDGES) for (let s = 0; s <= 70; s++) checkShifts(a, s);
  });

  it('matches bigint on random values (property)', () => {
    fc.assert(
      fc.property(arbU64, fc.integer({ min: 0, max: 64 }), (a, s) => checkShifts(a, s)),
      { numRuns: 2000 },
    );
  });
});

describe('u64Log2 (ilog2)', () => {
  it('is the bit index of every power of two', () => {
    for (let n = 0; n < 64; n++) {
      const v = 1n << BigInt(n);
      expect(u64Log2(hiOf(v), loOf(v))).toBe(n);
    }
    expect(u64Log2(0, 0)).toBe(-1);
  });

  it('is floor(log2) of any non-zero value (property)', () => {
    for (const a of EDGES) checkLog2(a);
    fc.assert(fc.property(arbU64, checkLog2), { numRuns: 2000 });
  });
});

describe('bigint <-> words', () => {
  it('splits any bigint mod 2^64 and joins back', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (v) => {
        const w = v & M64;
        expect(hiOfBig(v)).toBe(hiOf(w));
        expect(loOfBig(v)).toBe(loOf(w));
        expect(u64ToBigInt(hiOfBig(v), loOfBig(v))).toBe(w);
      }),
      { numRuns: 2000 },
    );
    for (const v of EDGES) expect(u64ToBigInt(hiOfBig(v), loOfBig(v))).toBe(v);
  });

  it('gives int32 words, as the bitwise operators and Int32Array do', () => {
    expect(hiOfBig(M64)).toBe(-1);
    expect(loOfBig(M64)).toBe(-1);
    expect(hiOfBig(1n << 63n)).toBe(-(2 ** 31));
    expect(loOfBig(0x1_0000_0001n)).toBe(1);
  });
});
