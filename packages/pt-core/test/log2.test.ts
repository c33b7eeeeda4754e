import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ffs32,
  ffs64,
  ffz32,
  ffz64,
  fvalog2DivEq,
  fvalog2DivHi,
  fvalog2DivLo,
  fvalog2ModHi,
  fvalog2ModLo,
  fvalog2SetModHi,
  fvalog2SetModLo,
  fvalog2SetModMaxHi,
  fvalog2SetModMaxLo,
  log2Div32,
  log2DivEq,
  log2DivEq32,
  log2DivHi,
  log2DivLo,
  log2Mod32,
  log2ModEqMax,
  log2ModEqMax32,
  log2ModHi,
  log2ModIsZero,
  log2ModLo,
  log2Mul32,
  log2MulHi,
  log2MulLo,
  log2SetMod32,
  log2SetModHi,
  log2SetModLo,
  log2SetModMax32,
  log2SetModMaxHi,
  log2SetModMaxLo,
  log2ToInt32,
  log2ToIntHi,
  log2ToIntLo,
  log2ToMaxInt32,
  log2ToMaxIntHi,
  log2ToMaxIntLo,
} from '../src/index.js';
import { arbU64, big, EDGES, hiOf, LG2S, loOf, M64 } from './ref.js';

/** The kernel helpers' meaning, with the full-VA definitions at lg2 == 64. */
const ref = {
  toInt: (b: bigint) => (1n << b) & M64,
  toMaxInt: (b: bigint) => (b === 64n ? M64 : (1n << b) - 1n),
  div: (a: bigint, b: bigint) => a >> b,
  mul: (a: bigint, b: bigint) => (a << b) & M64,
  mod: (a: bigint, b: bigint) => a & ref.toMaxInt(b),
  divEq: (a: bigint, c: bigint, b: bigint) => a >> b === c >> b,
  modEqMax: (a: bigint, b: bigint) => ref.mod(a, b) === ref.toMaxInt(b),
  setMod: (a: bigint, v: bigint, b: bigint) => (a & ~ref.toMaxInt(b) & M64) | v,
  setModMax: (a: bigint, b: bigint) => a | ref.toMaxInt(b),
};

function check64(a: bigint, c: bigint, b: number): void {
  const B = BigInt(b);
  const [h, l, ch, cl] = [hiOf(a), loOf(a), hiOf(c), loOf(c)];
  expect(big(log2ToIntHi(b), log2ToIntLo(b))).toBe(ref.toInt(B));
  expect(big(log2ToMaxIntHi(b), log2ToMaxIntLo(b))).toBe(ref.toMaxInt(B));
  expect(big(log2DivHi(h, l, b), log2DivLo(h, l, b))).toBe(ref.div(a, B));
  expect(big(log2MulHi(h, l, b), log2MulLo(h, l, b))).toBe(ref.mul(a, B));
  expect(big(log2ModHi(h, l, b), log2ModLo(h, l, b))).toBe(ref.mod(a, B));
  expect(log2ModIsZero(h, l, b)).toBe(ref.mod(a, B) === 0n);
  expect(log2DivEq(h, l, ch, cl, b)).toBe(ref.divEq(a, c, B));
  expect(log2ModEqMax(h, l, b)).toBe(ref.modEqMax(a, B));
  const v = ref.mod(c, B);
  const [vh, vl] = [hiOf(v), loOf(v)];
  expect(big(log2SetModHi(h, l, vh, vl, b), log2SetModLo(h, l, vh, vl, b))).toBe(ref.setMod(a, v, B));
  expect(big(log2SetModMaxHi(h, l, b), log2SetModMaxLo(h, l, b))).toBe(ref.setModMax(a, B));
}

describe('log2 helpers (pt_log2.h) on u64', () => {
  it('agree with the reference for every lg2 0..64 at every edge value', () => {
    for (const a of EDGES) for (const c of [0n, 1n, 1n << 32n, M64, a ^ 1n]) for (const b of LG2S) check64(a, c, b);
  });

  it('give the full-VA (fvalog2) results at lg2 = 64', () => {
    const a = 0x123456789abcdefn;
    const [h, l] = [hiOf(a), loOf(a)];
    expect(big(fvalog2DivHi(h, l, 64), fvalog2DivLo(h, l, 64))).toBe(0n);
    expect(big(fvalog2ModHi(h, l, 64), fvalog2ModLo(h, l, 64))).toBe(a);
    expect(fvalog2DivEq(h, l, 0, 0, 64)).toBe(true);
    expect(big(fvalog2SetModHi(h, l, 7, 9, 64), fvalog2SetModLo(h, l, 7, 9, 64))).toBe(big(7, 9));
    expect(big(fvalog2SetModMaxHi(h, l, 64), fvalog2SetModMaxLo(h, l, 64))).toBe(M64);
  });

  it('agree with the reference on random values (property)', () => {
    fc.assert(fc.property(arbU64, arbU64, fc.integer({ min: 0, max: 64 }), (a, c, b) => check64(a, c, b)));
  });

  it('pass the kernel test_bitops identities', () => {
    fc.assert(
      fc.property(arbU64, (v) => {
        const [h, l] = [hiOf(v), loOf(v)];
        if (v !== 0n) expect(log2ModIsZero(h, l, ffs64(h, l))).toBe(true);
        if (v !== M64) {
          const z = ffz64(h, l);
          expect(big(log2ModHi(h, l, z), log2ModLo(h, l, z))).toBe(ref.toMaxInt(BigInt(z)));
        }
        const w = l >>> 0;
        if (w !== 0) expect(log2Mod32(w, ffs32(w))).toBe(0);
        if (w !== 0xffffffff) expect(log2Mod32(w, ffz32(w))).toBe(log2ToMaxInt32(ffz32(w)));
      }),
    );
  });
});

describe('log2 helpers on 32-bit unsigned values', () => {
  const M32 = 0xffffffffn;
  const vals = [0, 1, 2, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, 0x1ff, 0x200];
  it('agree with the reference for lg2 0..32', () => {
    for (const a of vals) {
      for (const c of vals) {
        for (let b = 0; b <= 32; b++) {
          const A = BigInt(a);
          const B = BigInt(b);
          const max = b === 32 ? M32 : (1n << B) - 1n;
          expect(BigInt(log2ToInt32(b))).toBe((1n << B) & M32);
          expect(BigInt(log2ToMaxInt32(b))).toBe(max);
          expect(BigInt(log2Div32(a, b))).toBe(A >> B);
          expect(BigInt(log2Mul32(a, b))).toBe((A << B) & M32);
          expect(BigInt(log2Mod32(a, b))).toBe(A & max);
          expect(log2DivEq32(a, c, b)).toBe(A >> B === BigInt(c) >> B);
          expect(log2ModEqMax32(a, b)).toBe((A & max) === max);
          expect(BigInt(log2SetMod32(a, Number(BigInt(c) & max), b))).toBe((A & ~max & M32) | (BigInt(c) & max));
          expect(BigInt(log2SetModMax32(a, b))).toBe(A | max);
        }
      }
    }
  });
});
