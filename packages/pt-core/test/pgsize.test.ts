import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ptComputeBestPgsize, ptDefaultPgszLg2ToLevel, ptPgszCount } from '../src/index.js';
import { arbU64, hiOf, loOf, M64 } from './ref.js';

/** Brute force of the constraints pt_compute_best_pgsize() promises (the kunit's ref_best_pgsize). */
function refBest(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  for (let p = 63; p !== 0; p--) {
    const P = BigInt(p);
    const size = 1n << P;
    const end = (va + size - 1n) & M64;
    if (
      bitmap & size &&
      (va & (size - 1n)) === 0n &&
      (oa & (size - 1n)) === 0n &&
      end <= last &&
      va >> P === end >> P &&
      oa >> P === ((oa + size - 1n) & M64) >> P
    ) {
      return p;
    }
  }
  return 0;
}

function best(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  return ptComputeBestPgsize(hiOf(bitmap), loOf(bitmap), hiOf(va), loOf(va), hiOf(last), loOf(last), hiOf(oa), loOf(oa));
}

const rnd = fc.bigInt({ min: 0n, max: M64 });
const shl = (v: bigint, n: number) => (v << BigInt(n)) & M64;
const setModMax = (v: bigint, n: number) => v | ((1n << BigInt(n)) - 1n);

describe('pt_compute_best_pgsize', () => {
  it('matches brute force for random prefixes with every low-bit suffix (kunit test_best_pgsize)', () => {
    fc.assert(
      fc.property(rnd, rnd, rnd, rnd, (bitmap, r1, r2, r3) => {
        for (let a = 1; a < 10; a++) {
          for (let b = 1; b < 10; b++) {
            for (let c = 1; c < 10; c += 4) {
              let va = shl(r1, a);
              const oa = shl(r2, b);
              let last = setModMax(r3, c);
              if (va > last) [va, last] = [last, va];
              expect(best(bitmap, va, last, oa)).toBe(refBest(bitmap, va, last, oa));
            }
          }
        }
      }),
      { numRuns: 20 },
    );
  });

  it('matches brute force from 0 for every length up to 2^62', () => {
    fc.assert(
      fc.property(rnd, (bitmap) => {
        for (let c = 1; c < 63; c++) {
          const last = setModMax(0n, c);
          expect(best(bitmap, 0n, last, 0n)).toBe(refBest(bitmap, 0n, last, 0n));
        }
      }),
      { numRuns: 20 },
    );
  });

  it('matches brute force with all-ones prefixes ending at 2^64-1', () => {
    fc.assert(
      fc.property(rnd, (bitmap) => {
        for (let a = 1; a < 10; a++) {
          for (let b = 1; b < 10; b++) {
            const va = shl(M64, a);
            const oa = shl(M64, b);
            expect(best(bitmap, va, M64, oa)).toBe(refBest(bitmap, va, M64, oa));
          }
        }
      }),
      { numRuns: 20 },
    );
  });

  it('handles the whole 2^64 space (length wraps to 0) like the kernel on x86', () => {
    expect(best(1n << 32n, 0n, M64, 0n)).toBe(32);
    expect(best(M64, 0n, M64, 0n)).toBe(63);
    expect(best(M64, 0n, M64, 0n)).toBe(refBest(M64, 0n, M64, 0n));
  });

  it('returns 0 for an empty bitmap, and for va >= last', () => {
    fc.assert(
      fc.property(rnd, rnd, rnd, (va, last, oa) => {
        const [lo, hi] = va < last ? [va, last] : [last, va];
        expect(best(0n, lo, hi, oa)).toBe(0);
        expect(best(M64, hi, hi, oa)).toBe(0);
      }),
    );
  });

  it('matches brute force for page sizes past 32 bits', () => {
    fc.assert(
      fc.property(
        rnd,
        rnd,
        rnd,
        rnd,
        fc.integer({ min: 32, max: 41 }),
        fc.integer({ min: 32, max: 41 }),
        fc.integer({ min: 32, max: 41 }),
        (bitmap, r1, r2, r3, a, b, c) => {
          let va = shl(r1, a);
          const oa = shl(r2, b);
          let last = setModMax(r3, c);
          if (va > last) [va, last] = [last, va];
          expect(best(bitmap, va, last, oa)).toBe(refBest(bitmap, va, last, oa));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('matches brute force on arbitrary values (property)', () => {
    fc.assert(
      fc.property(arbU64, arbU64, arbU64, arbU64, (bitmap, x, y, oa) => {
        const [va, last] = x < y ? [x, y] : [y, x];
        expect(best(bitmap, va, last, oa)).toBe(refBest(bitmap, va, last, oa));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pt_pgsz_count', () => {
  const count = (bitmap: bigint, va: bigint, last: bigint, oa: bigint, p: number) =>
    ptPgszCount(hiOf(bitmap), loOf(bitmap), hiOf(va), loOf(va), hiOf(last), loOf(last), hiOf(oa), loOf(oa), p);

  it('passes the kunit test_pgsz_count cases', () => {
    expect(count(0x1000n, 0n, (1n << 30n) - 1n, 0n, 12)).toBe((1 << 30) / 4096);
    expect(count(0x201000n, 0x1000n, (1n << 30n) - 1n, 0x1000n, 12)).toBe((0x200000 - 0x1000) / 0x1000);
  });

  it('stops at the next larger size only when VA and OA are equally aligned to it', () => {
    // {4K, 2M}, VA and OA share their offset inside 2M: stop at the 2M boundary.
    expect(count(0x201000n, 0x1ff000n, 0x5fffffn, 0x7ff000n, 12)).toBe(1);
    // Different offsets: 2M can never be used, map everything in 4K.
    expect(count(0x201000n, 0x1ff000n, 0x5fffffn, 0x7fe000n, 12)).toBe((0x600000 - 0x1ff000) / 0x1000);
  });

  it('matches a BigInt model (property)', () => {
    fc.assert(
      fc.property(arbU64, arbU64, arbU64, arbU64, fc.integer({ min: 11, max: 52 }), (bitmap, x, y, oa, p) => {
        const [va, last] = x < y ? [x, y] : [y, x];
        let len = (last - va + 1n) & M64;
        const next = bitmap & ~((1n << BigInt(p + 1)) - 1n);
        if (next) {
          const n = BigInt(next.toString(2).length - next.toString(2).lastIndexOf('1') - 1);
          if (((va ^ oa) & ((1n << n) - 1n)) === 0n) {
            const r = (va | ((1n << n) - 1n)) - va + 1n;
            if (r < len) len = r;
          }
        }
        expect(count(bitmap, va, last, oa, p)).toBe(Number(len >> BigInt(p)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('pt_pgsz_lg2_to_level default', () => {
  it('divides the size above the granule by the index bits, unsigned', () => {
    expect(ptDefaultPgszLg2ToLevel(12, 12, 3, 12)).toBe(0);
    expect(ptDefaultPgszLg2ToLevel(12, 12, 3, 21)).toBe(1);
    expect(ptDefaultPgszLg2ToLevel(12, 12, 3, 38)).toBe(2);
    expect(ptDefaultPgszLg2ToLevel(11, 12, 3, 20)).toBe(1);
    // lg2 0 (no usable size) wraps like the kernel's unsigned arithmetic.
    expect(ptDefaultPgszLg2ToLevel(12, 12, 3, 0)).toBe(Math.floor((2 ** 32 - 12) / 9));
  });
});
