/**
 * IntervalMap against a slot-by-slot reference: random map/unmap sequences
 * on windows at the bottom, in the middle and at the top of the 64-bit
 * space, every query checked; and the edges (inclusive last at 2^64 - 1,
 * splits keeping OAs, bad input).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalMap, isPtError, type IntervalMapRange } from '../src/index.js';
import { M64 } from './ref.js';

const SLOTS = 48;
const STEP = 0x1000n;

/** Windows of SLOTS slots: from 0, across 2^63, and ending at 2^64 - 1. */
const BASES = [0n, (1n << 63n) - 16n * STEP, M64 + 1n - BigInt(SLOTS) * STEP];

type Op = { op: 'map'; a: number; n: number; oa: number; prot: number } | { op: 'unmap'; a: number; n: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('map' as const),
    a: fc.nat({ max: SLOTS - 1 }),
    n: fc.integer({ min: 1, max: 12 }),
    oa: fc.nat({ max: 1 << 20 }),
    prot: fc.nat({ max: 63 }),
  }),
  fc.record({ op: fc.constant('unmap' as const), a: fc.nat({ max: SLOTS - 1 }), n: fc.integer({ min: 1, max: 16 }) }),
);

function code(fn: () => unknown): string | 0 {
  try {
    fn();
    return 0;
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
}

/** Slot i holds the OA of its first byte and the prot, or undefined. */
type Ref = Array<{ oa: bigint; prot: number } | undefined>;

function checkAgainst(m: IntervalMap, ref: Ref, base: bigint): void {
  const va = (i: number) => base + BigInt(i) * STEP;
  // Stored ranges: sorted, disjoint, and exactly the mapped slots.
  let prev: IntervalMapRange | undefined;
  let bytes = 0n;
  let ordered = true;
  for (const r of m) {
    if ((prev !== undefined && r.start <= prev.last) || r.last < r.start) ordered = false;
    bytes += r.last - r.start + 1n;
    prev = r;
  }
  expect(ordered).toBe(true);
  expect(bytes).toBe(BigInt(ref.filter((s) => s !== undefined).length) * STEP);
  // Lookups at the first, a middle and the last byte of every slot (compared at once: expect() is slow).
  const got: Array<string> = [];
  const want: Array<string> = [];
  for (let i = 0; i < SLOTS; i++) {
    const s = ref[i];
    for (const off of [0n, STEP / 2n, STEP - 1n]) {
      const hit = m.find(va(i) + off);
      got.push(hit === undefined ? '-' : `${hit.oa}/${hit.range.prot}`);
      want.push(s === undefined ? '-' : `${(s.oa + off) & M64}/${s.prot}`);
    }
  }
  for (let a = 0; a < SLOTS; a += 5) {
    for (let b = a; b < SLOTS; b += 7) {
      const slots = ref.slice(a, b + 1);
      const last = va(b) + STEP - 1n;
      const hits = m.overlapping(va(a), last);
      got.push(
        `${m.overlaps(va(a), last)} ${m.covers(va(a), last)} ${hits.length > 0} ${hits.every((r) => r.start <= last && r.last >= va(a))}`,
      );
      const any = slots.some((s) => s !== undefined);
      want.push(`${any} ${slots.every((s) => s !== undefined)} ${any} true`);
    }
  }
  expect(got).toEqual(want);
}

describe('IntervalMap', () => {
  it('matches a slot-by-slot reference on random map/unmap sequences (property)', () => {
    fc.assert(
      fc.property(fc.constantFrom(...BASES), fc.array(opArb, { minLength: 1, maxLength: 30 }), (base, ops) => {
        const m = new IntervalMap();
        const ref: Ref = new Array(SLOTS).fill(undefined);
        for (const op of ops) {
          const n = Math.min(op.n, SLOTS - op.a);
          const start = base + BigInt(op.a) * STEP;
          const last = start + BigInt(n) * STEP - 1n;
          if (op.op === 'map') {
            const oa = BigInt(op.oa) * STEP;
            const busy = ref.slice(op.a, op.a + n).some((s) => s !== undefined);
            const sizeBefore = m.size;
            expect(code(() => m.map(start, last, oa, op.prot))).toBe(busy ? 'EADDRINUSE' : 0);
            if (busy) expect(m.size).toBe(sizeBefore);
            else for (let i = 0; i < n; i++) ref[op.a + i] = { oa: oa + BigInt(i) * STEP, prot: op.prot };
          } else {
            const want = ref.slice(op.a, op.a + n).filter((s) => s !== undefined).length;
            const removed = m.unmap(start, last);
            expect(removed.reduce((t, r) => t + (r.last - r.start + 1n), 0n)).toBe(BigInt(want) * STEP);
            expect(removed.every((r) => r.start >= start && r.last <= last)).toBe(true);
            for (let i = 0; i < n; i++) ref[op.a + i] = undefined;
          }
          checkAgainst(m, ref, base);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('holds a range ending at 2^64 - 1 and the whole space', () => {
    const m = new IntervalMap();
    const top = m.map(M64 - 0xfffn, M64, 0x5000n, 3);
    expect(m.find(M64)).toEqual({ range: top, oa: 0x5fffn });
    expect(m.covers(M64, M64)).toBe(true);
    expect(code(() => m.map(0n, M64, 0n))).toBe('EADDRINUSE');
    m.clear();
    const all = m.map(0n, M64, 0n, 1);
    expect(m.covers(0n, M64)).toBe(true);
    expect(m.overlapping(0n, M64)).toEqual([all]);
    expect(m.find(M64)?.oa).toBe(M64);
  });

  it('splits a partly unmapped range and keeps each piece at its OA', () => {
    const m = new IntervalMap();
    m.map(0x10000n, 0x1ffffn, 0x80000n, 7);
    expect(m.unmap(0x14000n, 0x14fffn)).toEqual([{ start: 0x14000n, last: 0x14fffn, oa: 0x84000n, prot: 7 }]);
    expect([...m]).toEqual([
      { start: 0x10000n, last: 0x13fffn, oa: 0x80000n, prot: 7 },
      { start: 0x15000n, last: 0x1ffffn, oa: 0x85000n, prot: 7 },
    ]);
    expect(m.covers(0x10000n, 0x13fffn)).toBe(true);
    expect(m.covers(0x10000n, 0x14000n)).toBe(false);
    expect(m.unmap(0n, M64).length).toBe(2);
    expect(m.size).toBe(0);
  });

  it('treats touching ranges as separate but covering', () => {
    const m = new IntervalMap();
    const a = m.map(0x1000n, 0x1fffn, 0n);
    const b = m.map(0x2000n, 0x2fffn, 0x9000n);
    expect(m.size).toBe(2);
    expect(m.covers(0x1800n, 0x27ffn)).toBe(true);
    expect(m.overlapping(0x1fffn, 0x2000n)).toEqual([a, b]);
    expect(m.overlaps(0x3000n, 0x3fffn)).toBe(false);
    // One shared byte at either end is an overlap.
    expect(code(() => m.map(0n, 0x1000n, 0n))).toBe('EADDRINUSE');
    expect(code(() => m.map(0x2fffn, 0x3fffn, 0n))).toBe('EADDRINUSE');
    expect(m.overlaps(0n, 0x1000n)).toBe(true);
    expect(m.overlaps(0n, 0xfffn)).toBe(false);
    expect(m.size).toBe(2);
  });

  it('removes a stored range whole, as mtree_erase does', () => {
    const m = new IntervalMap();
    const a = m.map(0x1000n, 0x1fffn, 0n);
    const b = m.map(0x3000n, 0x3fffn, 0n);
    m.remove(a);
    expect([...m]).toEqual([b]);
    expect(code(() => m.remove(a))).toBe('ENOENT');
    expect(code(() => m.remove({ ...b }))).toBe('ENOENT');
  });

  it('iterates a snapshot, so ranges can be unmapped while iterating', () => {
    const m = new IntervalMap();
    for (let i = 0n; i < 4n; i++) m.map(i * 0x2000n, i * 0x2000n + 0xfffn, i);
    let n = 0;
    for (const r of m) {
      m.unmap(r.start, r.last);
      n++;
    }
    expect(n).toBe(4);
    expect(m.size).toBe(0);
  });

  it('rejects bad input without changing anything', () => {
    const m = new IntervalMap();
    m.map(0x1000n, 0x1fffn, 0n);
    expect(code(() => m.map(0x3000n, 0x2fffn, 0n))).toBe('EINVAL');
    expect(code(() => m.map(-1n, 0x2fffn, 0n))).toBe('EINVAL');
    expect(code(() => m.map(0x3000n, M64 + 1n, 0n))).toBe('EOVERFLOW');
    expect(code(() => m.map(0x3000n, 0x3fffn, M64 + 1n))).toBe('EOVERFLOW');
    expect(code(() => m.unmap(0x2000n, 0x1fffn))).toBe('EINVAL');
    expect(code(() => m.find(4096 as unknown as bigint))).toBe('EINVAL');
    expect(code(() => m.covers(0x2000n, 0x1000n))).toBe('EINVAL');
    expect([...m]).toEqual([{ start: 0x1000n, last: 0x1fffn, oa: 0n, prot: 0 }]);
  });
});
