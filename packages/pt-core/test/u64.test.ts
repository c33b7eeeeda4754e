import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ffs32,
  ffs64,
  ffz32,
  ffz64,
  fls32,
  fls64,
  isPtError,
  maskHi,
  maskLo,
  numberHi,
  numberLo,
  parseU64,
  toBigInt,
  toHex,
  u64AddHi,
  u64AddLo,
  u64AddOverflows,
  u64Eq,
  u64Hex,
  u64Invalid,
  u64IsSafe,
  u64Le,
  u64Lt,
  U64Pair,
  u64ShlHi,
  u64ShlLo,
  u64ShrHi,
  u64ShrLo,
  u64ShrToNumber,
  u64Split,
  u64SubHi,
  u64SubLo,
  u64TestBit,
  u64ToBigInt,
  u64ToNumber,
  u64Value,
} from '../src/index.js';
import { arbU64, big, EDGES, hiOf, LG2S, loOf, M64 } from './ref.js';

const pairs = EDGES.flatMap((a) => EDGES.map((b) => [a, b] as const));

describe('u64 edge conversion', () => {
  it('splits every edge value given as a bigint and back', () => {
    const p = new U64Pair();
    for (const v of EDGES) {
      u64Split(v, p);
      expect(big(p.hi, p.lo)).toBe(v);
      expect(u64ToBigInt(p.hi, p.lo)).toBe(v);
      expect(u64Hex(p.hi, p.lo)).toBe('0x' + v.toString(16));
    }
  });

  it('splits safe numbers and returns numbers below 2^53, bigints above', () => {
    const p = new U64Pair();
    for (const v of EDGES) {
      const value = u64Value(hiOf(v), loOf(v));
      if (v <= BigInt(Number.MAX_SAFE_INTEGER)) {
        expect(value).toBe(Number(v));
        expect(u64IsSafe(hiOf(v), loOf(v))).toBe(true);
        u64Split(Number(v), p);
        expect(big(p.hi, p.lo)).toBe(v);
        expect(numberHi(Number(v))).toBe(hiOf(v));
        expect(numberLo(Number(v))).toBe(loOf(v));
        expect(u64ToNumber(hiOf(v), loOf(v))).toBe(Number(v));
      } else {
        expect(value).toBe(v);
        expect(u64IsSafe(hiOf(v), loOf(v))).toBe(false);
      }
    }
  });

  it('rejects bad input with the errno of its kind', () => {
    const p = new U64Pair();
    const bad: Array<[unknown, string]> = [
      [-1, 'EINVAL'],
      [1.5, 'EINVAL'],
      [NaN, 'EINVAL'],
      [Infinity, 'EINVAL'],
      [2 ** 53, 'EINVAL'],
      [Number.MAX_SAFE_INTEGER + 2, 'EINVAL'],
      [-1n, 'EINVAL'],
      [1n << 64n, 'EOVERFLOW'],
      [(1n << 64n) + 5n, 'EOVERFLOW'],
      ['0x10', 'EINVAL'],
      [null, 'EINVAL'],
      [undefined, 'EINVAL'],
    ];
    for (const [v, code] of bad) {
      expect(u64Invalid(v)).toBe(code);
      let err: unknown;
      try {
        u64Split(v, p, 'iova');
      } catch (e) {
        err = e;
      }
      expect(isPtError(err, code as 'EINVAL')).toBe(true);
    }
    expect(u64Invalid(Number.MAX_SAFE_INTEGER)).toBeUndefined();
    expect(u64Invalid(M64)).toBeUndefined();
    expect(u64Invalid(-0)).toBeUndefined();
  });

  it('parses hex and decimal text', () => {
    expect(parseU64('0x1000')).toBe(0x1000n);
    expect(parseU64('4096')).toBe(4096n);
    expect(parseU64('0xffff_ffff_ffff_ffff')).toBe(M64);
    expect(() => parseU64('0x1_0000_0000_0000_0000')).toThrow(/EOVERFLOW/);
    expect(() => parseU64('12abc')).toThrow(/EINVAL/);
    expect(toHex(255)).toBe('0xff');
    expect(toBigInt(7)).toBe(7n);
    expect(() => toBigInt(-3)).toThrow(/EINVAL/);
  });

  it('round-trips any u64 (property)', () => {
    fc.assert(
      fc.property(arbU64, (v) => {
        const p = new U64Pair().setValue(v);
        const out = p.value();
        expect(BigInt(out)).toBe(v);
        expect(p.bigint()).toBe(v);
      }),
    );
  });
});

describe('u64 arithmetic at the edges', () => {
  it('compares', () => {
    for (const [a, b] of pairs) {
      expect(u64Eq(hiOf(a), loOf(a), hiOf(b), loOf(b))).toBe(a === b);
      expect(u64Lt(hiOf(a), loOf(a), hiOf(b), loOf(b))).toBe(a < b);
      expect(u64Le(hiOf(a), loOf(a), hiOf(b), loOf(b))).toBe(a <= b);
    }
  });

  it('adds and subtracts mod 2^64', () => {
    for (const [a, b] of pairs) {
      const [ah, al, bh, bl] = [hiOf(a), loOf(a), hiOf(b), loOf(b)];
      expect(big(u64AddHi(ah, al, bh, bl), u64AddLo(ah, al, bh, bl))).toBe((a + b) & M64);
      expect(u64AddOverflows(ah, al, bh, bl)).toBe(a + b > M64);
      expect(big(u64SubHi(ah, al, bh, bl), u64SubLo(ah, al, bh, bl))).toBe((a - b) & M64);
    }
  });

  it('shifts by every count 0..64', () => {
    for (const a of EDGES) {
      for (const s of LG2S) {
        const S = BigInt(s);
        const [h, l] = [hiOf(a), loOf(a)];
        expect(big(u64ShrHi(h, l, s), u64ShrLo(h, l, s))).toBe(a >> S);
        expect(big(u64ShlHi(h, l, s), u64ShlLo(h, l, s))).toBe((a << S) & M64);
        if (a >> S <= BigInt(Number.MAX_SAFE_INTEGER)) expect(u64ShrToNumber(h, l, s)).toBe(Number(a >> S));
      }
    }
  });

  it('scans bits like the kernel (fls 1-based, ffs/ffz 0-based)', () => {
    expect(fls32(0)).toBe(0);
    expect(fls32(1)).toBe(1);
    expect(fls32(4)).toBe(3);
    expect(fls32(-1)).toBe(32);
    expect(fls64(0, 0)).toBe(0);
    expect(fls64(0, 1)).toBe(1);
    expect(fls64(-1, -1)).toBe(64);
    expect(ffs32(1)).toBe(0);
    expect(ffs32(4)).toBe(2);
    expect(ffs32(1 << 31)).toBe(31);
    expect(ffs64(0, 1)).toBe(0);
    expect(ffs64(1 << 31, 0)).toBe(63);
    for (let i = 0; i < 32; i++) expect(ffz32(~(-1 << i))).toBe(i);
    for (let i = 0; i < 64; i++) {
      const v = (1n << BigInt(i)) - 1n;
      expect(ffz64(hiOf(v), loOf(v))).toBe(i);
    }
    for (const a of EDGES) {
      const [h, l] = [hiOf(a), loOf(a)];
      expect(fls64(h, l)).toBe(a === 0n ? 0 : a.toString(2).length);
      if (a !== 0n) expect(ffs64(h, l)).toBe(a.toString(2).length - a.toString(2).lastIndexOf('1') - 1);
    }
  });

  it('builds masks and tests bits for every width', () => {
    for (const b of LG2S) {
      const m = b === 64 ? M64 : (1n << BigInt(b)) - 1n;
      expect(big(maskHi(b), maskLo(b))).toBe(m);
    }
    for (let n = 0; n < 64; n++) {
      const v = 1n << BigInt(n);
      expect(u64TestBit(hiOf(v), loOf(v), n)).toBe(true);
      expect(u64TestBit(hiOf(v), loOf(v), (n + 1) % 64)).toBe(false);
    }
  });

  it('matches the BigInt reference on random values (property)', () => {
    fc.assert(
      fc.property(arbU64, arbU64, fc.integer({ min: 0, max: 64 }), (a, b, s) => {
        const [ah, al, bh, bl] = [hiOf(a), loOf(a), hiOf(b), loOf(b)];
        const S = BigInt(s);
        expect(big(u64AddHi(ah, al, bh, bl), u64AddLo(ah, al, bh, bl))).toBe((a + b) & M64);
        expect(big(u64SubHi(ah, al, bh, bl), u64SubLo(ah, al, bh, bl))).toBe((a - b) & M64);
        expect(u64Lt(ah, al, bh, bl)).toBe(a < b);
        expect(big(u64ShrHi(ah, al, s), u64ShrLo(ah, al, s))).toBe(a >> S);
        expect(big(u64ShlHi(ah, al, s), u64ShlLo(ah, al, s))).toBe((a << S) & M64);
        expect(fls64(ah, al)).toBe(a === 0n ? 0 : a.toString(2).length);
      }),
    );
  });
});
