/**
 * Corrupted table memory, as an emulator loading a guest-built or restored
 * table may meet it: a table pointer rewritten to lead outside the table
 * memory, to a page never allocated, or to a table already reached. validate()
 * names the bad pointer with EFAULT, deinit frees exactly the sound tables and
 * fails with EFAULT instead of freeing what the pointer names. The ops check
 * each pointer they follow: map, unmap and iova_to_phys under a pointer that
 * leads outside the table memory or to a page never allocated fail with
 * EFAULT naming it, and write nothing there.
 */
import { hiOfBig, loOfBig } from '@genpt/pt-core';
import { dumpTable, IommuDirtyBitmap, IommuIotlbGather, tableAddressMask, tablePointerEntry, type PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { typedOutcome } from './outcome.js';
import { oaInto, vaInto } from './window.js';

const RW = 3;

function codeAndMessage(fn: () => unknown): [string, string] {
  const r = typedOutcome(fn);
  return [r.code, r.message];
}

/** The address of every table pointer to a level-0 table, with its raw value. */
function leafTablePointers(t: PtIommu): Array<{ pa: number; raw: bigint }> {
  const out: Array<{ pa: number; raw: bigint }> = [];
  for (const table of dumpTable(t).tables) {
    if (table.level !== 1) continue;
    for (const e of table.entries) if (e.kind === 'T') out.push({ pa: table.pa + (e.index << t.common.itemBytesLg2), raw: e.raw });
  }
  return out;
}

/** Index of the first non-zero word at or after `from`, or -1 (the never-used part of an arena is all zero). */
function firstNonZeroWord(words: Int32Array, from: number): number {
  for (let i = from; i < words.length; i++) if (words[i] !== 0) return i;
  return -1;
}

/** lg2 of a lower table's size and alignment: 12, or 14 with a 16 KiB granule. */
function tableAlignLg2(t: PtIommu): number {
  return Math.max(12, t.common.tablememLg2sz);
}

/** Pages (4 KiB) one lower table of t takes. */
function tablePagesOf(t: PtIommu): number {
  return 2 ** (tableAlignLg2(t) - 12);
}

/** A table-aligned address 64 KiB past the used part of t's memory: no allocated table is there. */
function unallocatedTableAt(t: PtIommu): number {
  const mem = t.common.mem;
  const align = 2 ** tableAlignLg2(t);
  return mem.basePa + Math.ceil((mem.touchedBytes + (1 << 16)) / align) * align;
}

/**
 * Rewrite the table pointer at `at` to point at `target`: only the address
 * field changes, encoded by the format (ARMv8 LPA splits it: OA[51:48] sit
 * in bits 15:12).
 */
function repoint(t: PtIommu, at: { pa: number; raw: bigint }, target: number): void {
  const common = t.common;
  const mask = tableAddressMask(common);
  const raw = (at.raw & ~mask) | (tablePointerEntry(common, target) & mask);
  if (common.itemWordsLg2 === 0) common.mem.write32(at.pa, loOfBig(raw));
  else common.mem.write64(at.pa, hiOfBig(raw), loOfBig(raw));
}

export function describeCorruptTable(kf: KunitFormat): void {
  describe(`${kf.format.name} corrupted table memory`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        /** Two leaf tables (two pages 2 MiB-ish apart at the lowest level), so one pointer can be rewritten. */
        const setup = () => {
          const priv = new KunitPriv(kf, n);
          const t = priv.table;
          const base = vaInto(t, 30);
          const span = 1n << BigInt(t.common.itemLg2sz[1]!);
          t.mapRange(base, oaInto(t, 33), priv.smallestPgsz, RW);
          t.mapRange(base + span, oaInto(t, 34), priv.smallestPgsz, RW);
          const ptrs = leafTablePointers(t);
          expect(ptrs.length).toBe(2);
          return { priv, t, base, ptrs };
        };

        it('a sound table validates; its pointers are all allocated tables', () => {
          const { priv, t } = setup();
          t.validate();
          expect(t.tableProblems()).toEqual([]);
          t.deinit();
          expect(priv.mem.pagesInUse).toBe(0);
        });

        it('a pointer outside the table memory: validate and deinit fail with EFAULT naming it; every sound table is freed', () => {
          const { priv, t, ptrs } = setup();
          const outside = priv.mem.basePa + priv.mem.maxBytes + (1 << 20);
          repoint(t, ptrs[1]!, outside);
          const [code, msg] = codeAndMessage(() => t.validate());
          expect(code).toBe('EFAULT');
          expect(msg).toContain(`points at 0x${outside.toString(16)} is outside the table memory`);
          expect(t.tableProblems()).toHaveLength(1);
          expect(t.tableProblems()[0]).toMatchObject({ level: 1, pa: outside });
          const [dcode] = codeAndMessage(() => t.deinit());
          expect(dcode).toBe('EFAULT');
          // The leaf table the pointer used to name is unreachable now: the only page left.
          expect(priv.mem.pagesInUse).toBe(tablePagesOf(t));
          expect(t.isLive).toBe(false);
        });

        it('a pointer to a page never allocated is not freed by deinit', () => {
          const { priv, t, ptrs } = setup();
          const mem = priv.mem;
          const free = unallocatedTableAt(t);
          expect(mem.blockLg2(free)).toBe(-1);
          repoint(t, ptrs[0]!, free);
          expect(codeAndMessage(() => t.validate())[1]).toContain('is not an allocated table');
          const inUse = mem.pagesInUse;
          expect(codeAndMessage(() => t.deinit())[0]).toBe('EFAULT');
          expect(mem.pagesInUse).toBe(tablePagesOf(t));
          expect(inUse).toBeGreaterThan(1);
          // The free page was never handed to free(): a later allocation still gets it intact.
          expect(mem.blockLg2(free)).toBe(-1);
        });

        /** The VA under ptrs[1], the second leaf table. */
        const badTargets = (priv: KunitPriv): Array<[string, number]> => {
          const mem = priv.mem;
          return [
            ['outside the table memory', mem.basePa + mem.maxBytes + (1 << 20)],
            ['a page that holds no allocated table', unallocatedTableAt(priv.table)],
          ];
        };

        it('map, iova_to_phys and unmap under a bad pointer fail with EFAULT naming it and write nothing', () => {
          for (let k = 0; k < 2; k++) {
            const { priv, t, base, ptrs } = setup();
            const span = 1n << BigInt(t.common.itemLg2sz[1]!);
            const pg = BigInt(priv.smallestPgsz);
            // The last page before the bad pointer's span, so an unmap can run into it without a hole.
            t.mapRange(base + span - pg, oaInto(t, 36), pg, RW);
            // From this table's memory: a fresh table's "unallocated" page is allocated once setup maps (64 KiB tables).
            const [where, target] = badTargets(priv)[k]!;
            repoint(t, ptrs[1]!, target);
            const before = dumpTable(t);
            const inUse = priv.mem.pagesInUse;
            const used = priv.mem.touchedBytes / 4;
            const words = priv.mem.words.slice(0, used);
            const named = `table pointer 0x${target.toString(16)} for level 0 leads to ${where}`;

            const m = typedOutcome(() => t.mapRange(base + span + pg, oaInto(t, 35), pg, RW));
            expect(m.code).toBe('EFAULT');
            expect(m.message).toContain(named);
            expect(m.mapped).toBe(0n);
            const q = typedOutcome(() => t.iovaToPhys(base + span));
            expect(q.code).toBe('EFAULT');
            expect(q.message).toContain(named);
            // set_dirty, where the format has it, names the pointer too.
            expect(['EFAULT', 'EOPNOTSUPP']).toContain(typedOutcome(() => t.setDirty(base + span)).code);
            const dirty = typedOutcome(() => t.readAndClearDirty(base + span, pg, 0, new IommuDirtyBitmap()));
            expect(dirty.code).toBe(t.hasDirtyTracking ? 'EFAULT' : 'EOPNOTSUPP');
            if (t.hasDirtyTracking) expect(dirty.message).toContain(named);
            expect(dumpTable(t)).toEqual(before);
            // Nothing written anywhere in the arena (a deep toEqual of the arena would take minutes).
            expect(Buffer.compare(Buffer.from(priv.mem.words.buffer, 0, used * 4), Buffer.from(words.buffer))).toBe(0);
            expect(priv.mem.touchedBytes / 4).toBe(used);
            expect(firstNonZeroWord(priv.mem.words, used)).toBe(-1);
            expect(priv.mem.pagesInUse).toBe(inUse);

            // Starting under the bad pointer: nothing is unmapped; the gather
            // holds at most the empty range the kernel adds for 0 bytes.
            const g0 = new IommuIotlbGather();
            const u0 = typedOutcome(() => t.unmapRange(base + span, pg, g0));
            expect(u0.code).toBe('EFAULT');
            expect(u0.message).toContain(named);
            expect(g0.end < g0.start).toBe(true);
            expect(g0.freelist).toEqual([]);
            // The page before it goes, then the walk stops at the bad pointer:
            // EFAULT with the bytes unmapped, which the gather covers.
            const g = new IommuIotlbGather();
            const u = typedOutcome(() => t.unmapRange(base + span - pg, span + pg, g));
            expect([u.code, u.message]).toEqual(['EFAULT', `EFAULT: unmap: ${named}`]);
            expect(u.mapped).toBe(pg);
            expect([BigInt(g.start), BigInt(g.end)]).toEqual([base + span - pg, base + span - 1n]);
            expect(BigInt(t.iovaToPhys(base + span - pg))).toBe(0n);
            expect(BigInt(t.iovaToPhys(base))).toBe(oaInto(t, 33));
            expect(codeAndMessage(() => t.deinit())[0]).toBe('EFAULT');
          }
        });

        it('two pointers to one table: reached twice, freed once', () => {
          const { priv, t, ptrs } = setup();
          // Pre-order by index: the first level-0 table is the one ptrs[0] names.
          const target = dumpTable(t).tables.filter((x) => x.level === 0)[0]!.pa;
          repoint(t, ptrs[1]!, target);
          expect(codeAndMessage(() => t.validate())[1]).toContain('is reached twice');
          expect(codeAndMessage(() => t.deinit())[0]).toBe('EFAULT');
          expect(priv.mem.pagesInUse).toBe(tablePagesOf(t));
        });
      });
    });
  });
}
