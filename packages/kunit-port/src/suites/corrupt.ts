/**
 * Corrupted table memory, as an emulator loading a guest-built or restored
 * table may meet it: a table pointer rewritten to lead outside the table
 * memory, to a page never allocated, or to a table already reached. validate()
 * names the bad pointer with EFAULT, deinit frees exactly the sound tables and
 * fails with EFAULT instead of freeing what the pointer names.
 */
import { hiOfBig, loOfBig, ptTopRange, u64ToBigInt } from '@genpt/pt-core';
import { dumpTable, tableAddressMask, type PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { typedOutcome } from './outcome.js';

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
    for (const e of table.entries) if (e.kind === 'T') out.push({ pa: table.pa + 8 * e.index, raw: e.raw });
  }
  return out;
}

/** Rewrite the table pointer at `at` to point at `target` (only the address field changes). */
function repoint(t: PtIommu, at: { pa: number; raw: bigint }, target: number): void {
  const mask = tableAddressMask(t.common);
  // The address field holds the PA in place (PA bits above the page offset); find its shift from the mask.
  let shift = 0n;
  while (shift < 64n && !((mask >> shift) & 1n)) shift++;
  const field = (BigInt(target) >> 12n) << shift;
  const raw = (at.raw & ~mask) | (field & mask);
  t.common.mem.write64(at.pa, hiOfBig(raw), loOfBig(raw));
}

export function describeCorruptTable(kf: KunitFormat): void {
  describe(`${kf.format.name} corrupted table memory`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        /** Two leaf tables (two pages 2 MiB-ish apart at the lowest level), so one pointer can be rewritten. */
        const setup = () => {
          const priv = new KunitPriv(kf, n);
          const t = priv.table;
          const top = ptTopRange(t.common);
          const base = u64ToBigInt(top.vaHi, top.vaLo) + (1n << 30n);
          const span = 1n << BigInt(t.common.itemLg2sz[1]!);
          t.mapRange(base, 1n << 33n, priv.smallestPgsz, RW);
          t.mapRange(base + span, 1n << 34n, priv.smallestPgsz, RW);
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
          expect(priv.mem.pagesInUse).toBe(1);
          expect(t.isLive).toBe(false);
        });

        it('a pointer to a page never allocated is not freed by deinit', () => {
          const { priv, t, ptrs } = setup();
          const mem = priv.mem;
          const free = mem.basePa + Math.ceil((mem.touchedBytes + (1 << 16)) / 4096) * 4096;
          expect(mem.blockLg2(free)).toBe(-1);
          repoint(t, ptrs[0]!, free);
          expect(codeAndMessage(() => t.validate())[1]).toContain('is not an allocated table');
          const inUse = mem.pagesInUse;
          expect(codeAndMessage(() => t.deinit())[0]).toBe('EFAULT');
          expect(mem.pagesInUse).toBe(1);
          expect(inUse).toBeGreaterThan(1);
          // The free page was never handed to free(): a later allocation still gets it intact.
          expect(mem.blockLg2(free)).toBe(-1);
        });

        it('two pointers to one table: reached twice, freed once', () => {
          const { priv, t, ptrs } = setup();
          // Pre-order by index: the first level-0 table is the one ptrs[0] names.
          const target = dumpTable(t).tables.filter((x) => x.level === 0)[0]!.pa;
          repoint(t, ptrs[1]!, target);
          expect(codeAndMessage(() => t.validate())[1]).toContain('is reached twice');
          expect(codeAndMessage(() => t.deinit())[0]).toBe('EFAULT');
          expect(priv.mem.pagesInUse).toBe(1);
        });
      });
    });
  });
}
