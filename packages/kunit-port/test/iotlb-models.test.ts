/**
 * The invalidation models on synthetic caches, where no format is needed:
 * each command sequence covers what the rule says, the model erases what
 * those commands reach and keeps the rest. (The models on live tables run in
 * every format package's iotlb.test.ts.)
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { amdModel, EmulatedIotlb, GENERIC_MODEL, RISCV_MODEL, smmuv3Model, smmuv3RangeCommands, VTD_MODEL } from '../src/index.js';

const SEED = 0x10771b;
const put = (m: EmulatedIotlb['leaves'], lg2: number, va: bigint) => {
  if (!m.has(lg2)) m.set(lg2, new Map());
  m.get(lg2)!.set(va >> BigInt(lg2), va);
};
const keys = (m: EmulatedIotlb['leaves']) => [...m].flatMap(([lg2, e]) => [...e.keys()].map((i) => `${lg2}:${i << BigInt(lg2)}`)).sort();

const SIZES = [12, 16, 21, 30];
const entryArb = fc.record({ lg2: fc.constantFrom(...SIZES), slot: fc.nat(63) });
const gatherArb = fc.record({ a: fc.nat(4095), b: fc.nat(4095), freed: fc.nat(2) }).map(({ a, b, freed }) => ({
  start: BigInt(Math.min(a, b)) << 12n,
  end: ((BigInt(Math.max(a, b)) + 1n) << 12n) - 1n,
  freedTables: freed,
}));

function cacheOf(entries: Array<{ lg2: number; slot: number }>): EmulatedIotlb {
  const c = new EmulatedIotlb();
  for (const e of entries) {
    const va = (BigInt(e.slot) << BigInt(e.lg2)) & ((1n << 24n) - 1n) & ~((1n << BigInt(e.lg2)) - 1n);
    put(c.leaves, e.lg2, va);
    put(c.walks, e.lg2, va);
  }
  return c;
}

const overlaps = (lg2: number, va: bigint, s: bigint, e: bigint) => va <= e && va + (1n << BigInt(lg2)) - 1n >= s;

describe('SMMUv3 range commands', () => {
  it('cover [start, end] from start, contiguously, NUM 0..31, leaving no page and at most one extra (non-leaf)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 1n << 20n }),
        fc.bigInt({ min: 1n, max: 1n << 20n }),
        fc.constantFrom(12, 14, 16),
        fc.boolean(),
        (p, n, tg, leaf) => {
          const start = p << BigInt(tg);
          const end = start + (n << BigInt(tg)) - 1n;
          const cmds = smmuv3RangeCommands(start, end, tg, leaf);
          let at = start;
          for (const c of cmds) {
            expect(c.address).toBe(at);
            expect(c.num).toBeGreaterThanOrEqual(0);
            expect(c.num).toBeLessThanOrEqual(31);
            expect(c.length).toBe(BigInt(c.num + 1) << BigInt(c.scale + tg));
            at += c.length;
          }
          const pages = (at - start) >> BigInt(tg);
          expect(pages === n || (!leaf && (n & 31n) === 1n && pages === n + 1n)).toBe(true);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('a leaf-only invalidation keeps the walk cache; with freed tables it reaches walks too', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), gatherArb, (entries, g) => {
        const c = cacheOf(entries);
        const walksBefore = keys(c.walks);
        smmuv3Model({ granuleLg2: 12 }).invalidate(c, g, { smallestPgszLg2: 12 });
        for (const k of keys(c.leaves)) {
          const [lg2, va] = k.split(':').map((x) => BigInt(x));
          expect(overlaps(Number(lg2), va!, g.start, g.end)).toBe(false);
        }
        if (g.freedTables === 0) expect(keys(c.walks)).toEqual(walksBefore);
        else for (const k of keys(c.walks)) expect(walksBefore).toContain(k);
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});

describe('what each model erases', () => {
  it('GENERIC: exactly the entries wholly inside the gather', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), gatherArb, (entries, g) => {
        const c = cacheOf(entries);
        const before = keys(c.leaves);
        GENERIC_MODEL.invalidate(c, g, { smallestPgszLg2: 12 });
        const inside = (k: string) => {
          const [lg2, va] = k.split(':').map((x) => BigInt(x));
          return va! >= g.start && va! + (1n << lg2!) - 1n <= g.end;
        };
        expect(keys(c.leaves)).toEqual(before.filter((k) => !inside(k)));
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('AMD, VT-d and RISC-V each erase every leaf no larger than what they cover that overlaps the gather', () => {
    fc.assert(
      fc.property(fc.array(entryArb, { maxLength: 30 }), gatherArb, (entries, g) => {
        for (const model of [amdModel(), VTD_MODEL, RISCV_MODEL]) {
          const c = cacheOf(entries);
          model.invalidate(c, g, { smallestPgszLg2: 12 });
          for (const k of keys(c.leaves)) {
            const [lg2, va] = k.split(':').map((x) => BigInt(x));
            // AMD keeps overlapping entries larger than its block; the others keep none that overlap.
            const blockLg2 = Math.max(12, (g.start ^ g.end).toString(2).length);
            const mayKeep = model.name === 'AMD' && Number(lg2) > blockLg2;
            if (!mayKeep) expect(overlaps(Number(lg2), va!, g.start, g.end), `${model.name} kept ${k}`).toBe(false);
          }
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });
});
