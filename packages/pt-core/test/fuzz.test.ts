/**
 * pt-core's public values given arbitrary JS input (fast-check): TableMemory,
 * IntervalMap and the feature and u64 conversions either work or throw a
 * PtError with an errno, never a TypeError or RangeError, and a refused call
 * changes nothing (pages in use, the map's ranges).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { argDescribe, featureBits, IntervalMap, isPtError, TableMemory, toBigInt, U64Pair, u64Split } from '@genpt/pt-core';

const RUNS = 300;

const value = fc.oneof(
  { weight: 3, arbitrary: fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true }) },
  { weight: 2, arbitrary: fc.constantFrom(0, 1, -1, 0.5, NaN, Infinity, 12, 13, 2 ** 32, 2 ** 53, 1n << 64n, -1n, 2 ** 40 + 4096) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }).map((k) => 2 ** 40 + k * 4096) },
  { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 1n << 20n }) },
);

function typed(label: string, fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    if (!isPtError(e)) throw new Error(`${label}: ${(e as Error)?.stack ?? argDescribe(e)}`);
    return false;
  }
}

describe('fuzz: pt-core entry points', () => {
  it(`TableMemory: ${RUNS} call sequences, typed errors only, pages in use unchanged by a refused call`, () => {
    const methods = [
      'alloc',
      'free',
      'read32',
      'write32',
      'read64Lo',
      'write64',
      'cmpxchg64',
      'readBytes',
      'blockLg2',
      'contains',
    ] as const;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(...methods), fc.array(value, { maxLength: 5 })), { maxLength: 12 }),
        fc.option(value),
        (seq, opt) => {
          if (!typed('new TableMemory', () => new TableMemory(opt === null ? {} : ({ basePa: opt } as never)))) return;
          const mem = new TableMemory({ maxBytes: 1 << 20 });
          const live = [mem.alloc(12)];
          for (const [m, args] of seq) {
            const before = mem.pagesInUse;
            const ok = typed(`${m}(${args.map(argDescribe).join(', ')})`, () => (mem[m] as (...a: unknown[]) => unknown)(...args));
            if (!ok) expect(mem.pagesInUse).toBe(before);
          }
          expect(live[0]).toBeGreaterThan(0);
        },
      ),
      { numRuns: RUNS, seed: 0x7074 },
    );
  });

  it(`IntervalMap: ${RUNS} call sequences, typed errors only, ranges unchanged by a refused call`, () => {
    const methods = ['map', 'unmap', 'find', 'overlapping', 'overlaps', 'covers'] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom(...methods), fc.array(value, { maxLength: 4 })), { maxLength: 12 }), (seq) => {
        const m = new IntervalMap();
        for (const [name, args] of seq) {
          const before = JSON.stringify(m.overlapping(0n, (1n << 64n) - 1n), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v));
          const ok = typed(`${name}(${args.map(argDescribe).join(', ')})`, () => (m[name] as (...a: unknown[]) => unknown).apply(m, args));
          const after = JSON.stringify(m.overlapping(0n, (1n << 64n) - 1n), (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v));
          if (!ok) expect(after).toBe(before);
        }
      }),
      { numRuns: RUNS, seed: 0x696d },
    );
  });

  it(`u64Split, toBigInt and featureBits: typed errors only over ${RUNS * 4} values`, () => {
    const out = new U64Pair();
    fc.assert(
      fc.property(value, fc.array(value, { maxLength: 3 }), (v, names) => {
        typed('u64Split', () => u64Split(v, out, 'v'));
        typed('toBigInt', () => toBigInt(v as never, 'v'));
        typed('featureBits', () => featureBits(names as never, ['FMT_A']));
      }),
      { numRuns: RUNS * 4, seed: 0x7536 },
    );
  });
});
