/** The bigint helpers keep u64 meaning: limits, log2 masks, range ends, rounding. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  lastOfBig,
  log2SetModBig,
  log2ToMaxIntBig,
  lowestBitBig,
  maxBig,
  minBig,
  pairOutBig,
  roundupPowOfTwoBig,
  U64_MAX,
  u64OfBig,
  ULONG_MAX,
} from '../src/index.js';
import { arbU64, M64 } from './ref.js';

describe('u64 as bigint', () => {
  it('names the 64-bit limits', () => {
    expect(U64_MAX).toBe(M64);
    expect(ULONG_MAX).toBe(M64);
  });

  it('turns a bigint into the API form: a number only when safe', () => {
    expect(u64OfBig(0n)).toBe(0);
    expect(u64OfBig(BigInt(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER);
    expect(u64OfBig(1n << 53n)).toBe(1n << 53n);
    expect(u64OfBig(M64)).toBe(M64);
  });

  it('log2_to_max_int and log2_set_mod for every width', () => {
    for (let b = 0; b <= 64; b++) {
      const m = b === 64 ? M64 : (1n << BigInt(b)) - 1n;
      expect(log2ToMaxIntBig(b)).toBe(m);
    }
    fc.assert(
      fc.property(arbU64, fc.integer({ min: 0, max: 64 }), fc.bigInt({ min: 0n, max: M64 }), (a, b, r) => {
        const val = r & log2ToMaxIntBig(b);
        const want = b === 64 ? val : ((a >> BigInt(b)) << BigInt(b)) | val;
        expect(log2SetModBig(a, val, b)).toBe(want);
      }),
    );
  });

  it('finds the last byte of a range, or undefined past 2^64 (check_add_overflow)', () => {
    expect(lastOfBig(0n, 1n)).toBe(0n);
    expect(lastOfBig(0x1000n, 0x1000n)).toBe(0x1fffn);
    expect(lastOfBig(0n, 1n << 64n)).toBe(M64);
    expect(lastOfBig(1n, 1n << 64n)).toBeUndefined();
    expect(lastOfBig(M64, 2n)).toBeUndefined();
    fc.assert(
      fc.property(arbU64, arbU64, (s, l) => {
        const want = s + l - 1n;
        expect(lastOfBig(s, l)).toBe(want > M64 ? undefined : want);
      }),
    );
  });

  it('rounds up to a power of two and takes the lowest set bit', () => {
    expect(roundupPowOfTwoBig(0n)).toBe(1n);
    expect(roundupPowOfTwoBig(1n)).toBe(1n);
    expect(roundupPowOfTwoBig(3n)).toBe(4n);
    expect(roundupPowOfTwoBig((1n << 63n) - 1n)).toBe(1n << 63n);
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 1n << 63n }), (v) => {
        const p = roundupPowOfTwoBig(v);
        expect(p >= v && p / 2n < v && (p & (p - 1n)) === 0n).toBe(true);
      }),
    );
    fc.assert(
      fc.property(
        arbU64.filter((v) => v !== 0n),
        (v) => {
          const b = lowestBitBig(v);
          expect((b & (b - 1n)) === 0n && (v & b) === b && (v & (b - 1n)) === 0n).toBe(true);
        },
      ),
    );
  });

  it('min and max', () => {
    expect(minBig(3n, M64)).toBe(3n);
    expect(maxBig(3n, M64)).toBe(M64);
  });

  it('reads a U64Pair out-parameter as a bigint', () => {
    expect(pairOutBig((o) => o.set(-1, -1))).toBe(M64);
    expect(pairOutBig((o) => o.set(1, 0))).toBe(1n << 32n);
  });
});
