/**
 * resize's bestLg2 (the largest leaf a split, cut or collapse piece can be)
 * against the search it replaced: every size from 2^63 down, the first one
 * the level has that the alignment of va and oa, the room to last and the
 * cap allow. Same answer on random and edge inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bestLg2, type ResizeState } from '../dist/ops/resize.js';

function reference(sizes: bigint, isz: number, cap: number, va: bigint, oa: bigint, last: bigint): number {
  if (sizes === 0n) return -1;
  for (let lg2 = Math.min(63, cap); lg2 >= isz; lg2--) {
    if (((sizes >> BigInt(lg2)) & 1n) === 0n) continue;
    const mask = (1n << BigInt(lg2)) - 1n;
    if ((va & mask) !== 0n || (oa & mask) !== 0n || va + mask > last) continue;
    return lg2;
  }
  return -1;
}

function state(sizes: bigint, isz: number, capLg2: number): ResizeState {
  return {
    sizes: [sizes],
    capFirst: 0n,
    capLast: (1n << 64n) - 1n,
    capLg2,
    t: { common: { itemLg2sz: [isz] } },
  } as unknown as ResizeState;
}

const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
/** Mostly aligned values: a random value with its low bits cleared. */
const aligned = fc.tuple(u64, fc.integer({ min: 0, max: 64 })).map(([v, k]) => ((v >> BigInt(k)) << BigInt(k)) & ((1n << 64n) - 1n));

describe('bestLg2', () => {
  it('equals the search from 2^63 down on random inputs', () => {
    fc.assert(
      fc.property(
        u64,
        fc.integer({ min: 9, max: 40 }),
        fc.integer({ min: 0, max: 64 }),
        aligned,
        aligned,
        u64,
        (sizesRaw, isz, cap, va, oa, len) => {
          const sizes = sizesRaw & ~((1n << BigInt(isz)) - 1n);
          const last = va + len > (1n << 64n) - 1n ? (1n << 64n) - 1n : va + len;
          expect(bestLg2(state(sizes, isz, cap), 0, va, oa, last)).toBe(reference(sizes, isz, cap, va, oa, last));
        },
      ),
      { numRuns: 5000 },
    );
  });

  it('edges: the whole 64-bit space, no room, no sizes, a cap below the item', () => {
    const all = (1n << 64n) - 1n;
    const sizes = (1n << 12n) | (1n << 21n) | (1n << 30n) | (1n << 39n);
    const cases: Array<[bigint, number, number, bigint, bigint, bigint]> = [
      [sizes, 12, 64, 0n, 0n, all],
      [sizes, 12, 64, 0n, 1n << 21n, all],
      [sizes, 12, 64, 0x1000n, 0n, 0x1fffn],
      [sizes, 12, 64, 0x1000n, 0n, 0x1ffen],
      [0n, 12, 64, 0n, 0n, all],
      [sizes, 12, 11, 0n, 0n, all],
      [sizes, 12, 30, 0n, 0n, all],
      [1n << 63n, 12, 64, 0n, 0n, all],
    ];
    for (const [s, isz, cap, va, oa, last] of cases)
      expect(bestLg2(state(s, isz, cap), 0, va, oa, last)).toBe(reference(s, isz, cap, va, oa, last));
  });
});
