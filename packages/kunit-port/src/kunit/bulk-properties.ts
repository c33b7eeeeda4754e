/**
 * genpt's bulk format ops (findNonEmpty, skipCleanLeaves, installLeafRun,
 * clearLeafRun, clearLeafRunOa) are
 * hand-written loops over a format's bits; the contract is that they do
 * exactly what PtFormatDefaults builds from the kernel's per-item functions.
 * These properties run an override and the default on two copies of the same
 * random table and require the same result, the same table words and the
 * same state afterwards.
 */
import fc from 'fast-check';
import {
  numberHi,
  numberLo,
  PT_ENTRY_OA,
  PtFormatDefaults,
  PtRange,
  PtState,
  PtWriteAttrs,
  U64Pair,
  type PtCommon,
  type PtFormat,
} from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';

const defaults = PtFormatDefaults.prototype as unknown as PtFormat;

/** One item-run of the random table: empty items, a leaf of 2^contig items, or a table pointer. */
type Piece =
  | { kind: 'empty'; n: number }
  | { kind: 'leaf'; contig: number; oa: number; prot: number }
  /** A leaf whose OA starts where the previous leaf's ends (what a map writes). */
  | { kind: 'next'; contig: number; prot: number }
  /** n single-item leaves that each follow on (one map of n pages): the bulk ops' unrolled loops. */
  | { kind: 'run'; n: number; prot: number }
  /** A leaf that would follow on but for `far` x 4 GiB: the same low word, another high word. */
  | { kind: 'far'; far: number; prot: number }
  | { kind: 'table'; page: number };

const pair = new U64Pair();

function leafContigs(common: PtCommon, pts: PtState): number[] {
  common.fmt.possibleSizes(pts, pair);
  const isz = common.itemLg2sz[pts.level]!;
  const out: number[] = [];
  for (let b = isz; b < 64; b++) {
    const set = b < 32 ? (pair.lo >>> b) & 1 : (pair.hi >>> (b - 32)) & 1;
    // keep the runs inside a 512-item window
    if (set && b - isz <= 6) out.push(b - isz);
  }
  return out;
}

function arbPieces(contigs: number[], canTable: boolean): fc.Arbitrary<Piece[]> {
  const empty = fc.record({ kind: fc.constant('empty' as const), n: fc.integer({ min: 1, max: 40 }) });
  const leaf = fc.record({
    kind: fc.constant('leaf' as const),
    contig: fc.constantFrom(...contigs),
    oa: fc.integer({ min: 0, max: 2 ** 20 - 1 }),
    prot: fc.integer({ min: 0, max: 63 }),
  });
  const next = fc.record({ kind: fc.constant('next' as const), contig: fc.constantFrom(...contigs), prot: fc.constantFrom(3, 3, 3, 1) });
  const run = fc.record({ kind: fc.constant('run' as const), n: fc.integer({ min: 2, max: 40 }), prot: fc.constantFrom(3, 1) });
  const far = fc.record({ kind: fc.constant('far' as const), far: fc.integer({ min: 1, max: 3 }), prot: fc.constant(3) });
  const table = fc.record({ kind: fc.constant('table' as const), page: fc.integer({ min: 1, max: 2 ** 20 }) });
  const kinds = canTable
    ? fc.oneof(
        { arbitrary: empty, weight: 1 },
        { arbitrary: leaf, weight: 1 },
        { arbitrary: next, weight: 3 },
        { arbitrary: run, weight: 1 },
        { arbitrary: far, weight: 1 },
        { arbitrary: table, weight: 1 },
      )
    : fc.oneof(
        { arbitrary: empty, weight: 1 },
        { arbitrary: leaf, weight: 1 },
        { arbitrary: next, weight: 3 },
        { arbitrary: run, weight: 1 },
        { arbitrary: far, weight: 1 },
      );
  return fc.array(kinds, { minLength: 1, maxLength: 24 });
}

/** Two identical 4 KiB tables at `level`, filled from `pieces`; returns the states. */
function twoTables(common: PtCommon, level: number, pieces: Piece[], items: number): [PtState, PtState] {
  const fmt = common.fmt;
  const range = new PtRange(common);
  const a = new PtState(range).init(range, level, common.mem.alloc(12));
  const isz = common.itemLg2sz[level]!;
  let index = 0;
  let nextOa = 0;
  const expanded = pieces.flatMap((p): Piece[] =>
    p.kind === 'run'
      ? Array.from({ length: p.n }, () => ({ kind: 'next' as const, contig: 0, prot: p.prot }))
      : p.kind === 'far'
        ? [{ kind: 'leaf' as const, contig: 0, oa: -p.far, prot: p.prot }]
        : [p],
  );
  for (const p of expanded) {
    if (p.kind === 'empty') {
      index += p.n;
      continue;
    }
    if (p.kind === 'run' || p.kind === 'far') continue;
    if (p.kind === 'table') {
      if (index >= items) break;
      a.index = index++;
      fmt.loadEntryRaw(a);
      fmt.installTable(a, p.page * 4096, new PtWriteAttrs());
      continue;
    }
    const span = 2 ** p.contig;
    index = Math.ceil(index / span) * span;
    if (index + span > items) break;
    const attrs = new PtWriteAttrs();
    if (fmt.iommuSetProt(common, attrs, p.prot) !== 0) continue;
    const size = 2 ** (isz + p.contig);
    // A following leaf needs an OA aligned to its size; else start a fresh one.
    // (A far leaf: a negative oa, the 4 GiB steps (or item sizes, if larger) past the following OA.)
    const oa =
      p.kind === 'leaf' && p.oa < 0
        ? Math.ceil(nextOa / size) * size + -p.oa * Math.max(size, 2 ** 32)
        : p.kind === 'next' && nextOa % size === 0
          ? nextOa
          : (p.kind === 'leaf' ? p.oa : index + 1) * size;
    a.index = index;
    fmt.installLeafEntry(a, numberHi(oa), numberLo(oa), isz + p.contig, attrs);
    nextOa = oa + size;
    index += span;
  }
  const b = new PtState(range).init(range, level, common.mem.alloc(12));
  common.words.copyWithin(b.base, a.base, a.base + 1024);
  return [a, b];
}

function snapshot(pts: PtState): unknown {
  return {
    index: pts.index,
    type: pts.type,
    entry: [pts.entryHi, pts.entryLo],
    words: Array.from(pts.words.subarray(pts.base, pts.base + 1024)),
  };
}

function free(common: PtCommon, ...ps: PtState[]): void {
  for (const p of ps) common.mem.free(p.table);
}

export function describeBulkOpProperties(common: PtCommon, level: number, numRuns: number): void {
  const fmt = common.fmt;
  const range = new PtRange(common);
  const probe = new PtState(range).init(range, level, common.mem.alloc(12));
  const contigs = fmt.canHaveLeaf(probe) ? leafContigs(common, probe) : [];
  common.mem.free(probe.table);
  if (contigs.length === 0) return;
  const items = Math.min(2 ** common.numItemsLg2[level]!, 512);
  const isz = common.itemLg2sz[level]!;
  const arbTable = arbPieces(contigs, level > 0);
  const arbIdx = fc.integer({ min: 0, max: items - 1 });

  describe(`level ${level}: bulk ops agree with the per-item defaults`, () => {
    it('findNonEmpty', () => {
      fc.assert(
        fc.property(arbTable, arbIdx, arbIdx, (pieces, i, j) => {
          const [a, b] = twoTables(common, level, pieces, items);
          const start = Math.min(i, j);
          const end = Math.max(i, j) + 1;
          a.index = b.index = start;
          expect(fmt.findNonEmpty(a, end)).toBe(defaults.findNonEmpty.call(fmt, b, end));
          expect(a.index).toBe(start);
          free(common, a, b);
        }),
        { numRuns },
      );
    });

    it('skipCleanLeaves', () => {
      fc.assert(
        fc.property(arbTable, arbIdx, arbIdx, fc.array(arbIdx, { maxLength: 40 }), (pieces, i, j, dirty) => {
          const [a, b] = twoTables(common, level, pieces, items);
          // Some leaves dirtied, the same in both copies (hardware's D bits).
          if (fmt.hasMakeWriteDirty) {
            for (const d of dirty) {
              for (const p of [a, b]) {
                p.index = d;
                if (fmt.loadEntryRaw(p) === PT_ENTRY_OA) fmt.entryMakeWriteDirty(p);
              }
            }
          }
          const end = Math.max(i, j) + 1;
          // The op's precondition: a clean single-item leaf at the start.
          let start = Math.min(i, j);
          for (; start < end; start++) {
            b.index = start;
            if (fmt.loadEntryRaw(b) === PT_ENTRY_OA && fmt.entryNumContigLg2(b) === 0 && !fmt.entryIsWriteDirty(b)) break;
          }
          if (start < end) {
            a.index = b.index = start;
            fmt.loadEntryRaw(a);
            fmt.loadEntryRaw(b);
            expect(fmt.skipCleanLeaves(a, end)).toBe(defaults.skipCleanLeaves.call(fmt, b, end));
            expect(snapshot(a)).toEqual(snapshot(b));
          }
          free(common, a, b);
        }),
        { numRuns },
      );
    });

    it('installLeafRun', () => {
      const arbOa = fc.integer({ min: 0, max: 2 ** 40 - 1 }).map((v) => v * 2 ** isz);
      fc.assert(
        fc.property(
          arbTable,
          arbIdx,
          fc.integer({ min: 1, max: 512 }),
          arbOa,
          fc.integer({ min: 0, max: 63 }),
          (pieces, start, count, oa, prot) => {
            const attrs = new PtWriteAttrs();
            if (fmt.iommuSetProt(common, attrs, prot) !== 0) return;
            if (oa >= 2 ** common.maxOaszLg2) return;
            const n = Math.min(count, items - start);
            const [a, b] = twoTables(common, level, pieces, items);
            a.index = b.index = start;
            a.entryHi = b.entryHi = 0;
            a.entryLo = b.entryLo = 0;
            const hi = numberHi(oa);
            const lo = numberLo(oa);
            const got = fmt.installLeafRun(a, n, hi, lo, isz, attrs);
            const want = defaults.installLeafRun.call(fmt, b, n, hi, lo, isz, attrs);
            expect(got).toBe(want);
            const sa = snapshot(a) as { type: unknown; entry: unknown };
            const sb = snapshot(b) as { type: unknown; entry: unknown };
            // neither the type nor, when nothing was installed, the entry is part of the contract
            sa.type = sb.type = 0;
            if (got === 0) sa.entry = sb.entry = 0;
            expect(sa).toEqual(sb);
            free(common, a, b);
          },
        ),
        { numRuns },
      );
    });

    it('clearLeafRun', () => {
      fc.assert(
        fc.property(arbTable, arbIdx, arbIdx, (pieces, i, j) => {
          const [a, b] = twoTables(common, level, pieces, items);
          // start on the head of a leaf, as unmap does
          let start = Math.min(i, j);
          a.index = start;
          if (fmt.loadEntryRaw(a) !== PT_ENTRY_OA) return free(common, a, b);
          start = start & ~(2 ** fmt.entryNumContigLg2(a) - 1);
          const end = Math.max(start + 1, Math.max(i, j));
          a.index = b.index = start;
          a.type = fmt.loadEntryRaw(a);
          b.type = fmt.loadEntryRaw(b);
          expect(fmt.clearLeafRun(a, end)).toBe(defaults.clearLeafRun.call(fmt, b, end));
          const sa = snapshot(a) as { type: unknown; entry: unknown };
          const sb = snapshot(b) as { type: unknown; entry: unknown };
          // the loaded item is only part of the contract when the run stopped before endIndex
          if (a.index >= end) sa.type = sb.type = sa.entry = sb.entry = 0;
          expect(sa).toEqual(sb);
          free(common, a, b);
        }),
        { numRuns },
      );
    });

    it('clearLeafRunOa', () => {
      const oaA = new U64Pair();
      const oaB = new U64Pair();
      fc.assert(
        fc.property(arbTable, arbIdx, arbIdx, (pieces, i, j) => {
          const [a, b] = twoTables(common, level, pieces, items);
          let start = Math.min(i, j);
          a.index = start;
          if (fmt.loadEntryRaw(a) !== PT_ENTRY_OA) return free(common, a, b);
          start = start & ~(2 ** fmt.entryNumContigLg2(a) - 1);
          const end = Math.max(start + 1, Math.max(i, j));
          a.index = b.index = start;
          a.type = fmt.loadEntryRaw(a);
          b.type = fmt.loadEntryRaw(b);
          expect(fmt.clearLeafRunOa(a, end, oaA)).toBe(defaults.clearLeafRunOa.call(fmt, b, end, oaB));
          expect([oaA.hi, oaA.lo]).toEqual([oaB.hi, oaB.lo]);
          const sa = snapshot(a) as { type: unknown; entry: unknown };
          const sb = snapshot(b) as { type: unknown; entry: unknown };
          if (a.index >= end) sa.type = sb.type = sa.entry = sb.entry = 0;
          expect(sa).toEqual(sb);
          free(common, a, b);
        }),
        { numRuns },
      );
    });
  });
}
