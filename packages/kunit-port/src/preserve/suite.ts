/**
 * describePreserveSuite: preserve -> restore of a live table (KHO). fast-check
 * sequences build a table against the reference model; its descriptor goes
 * through JSON and is restored in the same memory (the old table abandoned)
 * and from a raw image in fresh memory: the dump is identical bit for bit,
 * every translation is the model's, and random map/unmap/cut/dirty ops then
 * continue on the restored table against the model until deinit frees every
 * page. Bad descriptors and images (an unlisted page, a cycle, a shared
 * table, a wrong level, a truncated image, a wrong format, a page listed
 * twice or misaligned) are each EINVAL with nothing adopted.
 */
import {
  IommuDirtyBitmap,
  IommuIotlbGather,
  PtIommu,
  PtSpinLock,
  dumpTable,
  putPagesList,
  type PtIommuOptions,
  type PtPreserveDescriptor,
} from '@genpt/iommu-ops';
import { IntervalMap, PtError, PtRange, PtState, PtWriteAttrs, TableMemory, PT_ENTRY_EMPTY } from '@genpt/pt-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CountingIommuDevice, KunitPriv, cfgName, tracksDirty, type KunitFormat } from '../kunit/fixture.js';
import {
  type WindowMap,
  type WindowUnmap,
  expectModelTranslations,
  windowBase,
  windowMapFields,
  windowMapVa,
  windowSpan,
  windowUnmapFields,
  windowVa,
  WINDOW_PAGES,
  oaBase,
} from '../suites/window.js';

export interface PreserveSuiteOptions {
  numRuns?: number;
  seed?: number;
}

const json = (v: unknown): string => JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x));

/** Debug tables may use cut on every format (as the resize suite does). */
const HITLESS = { oaSizeChange: true, oaTableXchg: true };

/** The options a restored table runs with (those of KunitPriv, on `mem`). */
function restoreOptions(mem: TableMemory): PtIommuOptions {
  const lock = new PtSpinLock();
  return {
    debug: true,
    checked: true,
    driverOps: { changeTop: () => {}, getTopLock: () => lock },
    domainOps: { iotlbSync: (_d, g: IommuIotlbGather) => putPagesList(mem, g.freelist) },
    iommuDevice: new CountingIommuDevice(),
    hitless: HITLESS,
  };
}

type Op = WindowMap | WindowUnmap | { op: 'cut'; page: number } | { op: 'dirty'; page: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record(windowMapFields()) },
  { weight: 2, arbitrary: fc.record(windowUnmapFields(600)) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('cut' as const), page: fc.nat(WINDOW_PAGES - 1) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('dirty' as const), page: fc.nat(WINDOW_PAGES - 1) }) },
);

/** Run ops on t against the model (OAs at the VA's offset from 2^34, so large pages form). */
function runOps(t: PtIommu, model: IntervalMap, pg: bigint, ops: Op[]): void {
  const base = windowBase(t);
  for (const o of ops) {
    const va = windowVa(base, pg, o.page);
    const g = new IommuIotlbGather();
    if (o.op === 'map') {
      const at = windowMapVa(base, pg, o);
      const len = windowSpan(model, base, pg, at, o.pages);
      if (len === undefined) continue;
      t.mapRange(at, oaBase(t) + (at - base), len, 3);
      model.map(at, at + len - 1n, oaBase(t) + (at - base));
    } else if (o.op === 'unmap') {
      const n = BigInt(t.unmapRange(va, BigInt(o.pages) * pg, g));
      if (n > 0n) model.unmap(va, va + n - 1n);
    } else if (o.op === 'cut') {
      if (model.find(va) === undefined) continue;
      t.cutMapping(va, g);
    } else if (tracksDirty(t) && model.find(va) !== undefined) {
      t.setDirty(va);
      const d = new IommuDirtyBitmap();
      t.readAndClearDirty(va, pg, 0, d);
      putPagesList(t.common.mem, d.gather.freelist);
    }
    putPagesList(t.common.mem, g.freelist);
  }
}

/** The 4 KiB pages a descriptor's tables take (a 16 KiB table is four). */
function descPages(d: PtPreserveDescriptor): number {
  return d.tables.reduce((n, e) => n + 2 ** (e.sizeLg2 - 12), 0);
}

/** A table's memory as an image, the way `genpt dump --image` writes it. */
function imageOf(mem: TableMemory): Uint8Array {
  return mem.readBytes(mem.basePa, mem.touchedBytes);
}

function expectRefused(fmt: KunitFormat['format'], d: unknown, mem: TableMemory, msg: RegExp): void {
  const inUse = mem.pagesInUse;
  const reserved = mem.reservedPages;
  let err: unknown;
  try {
    PtIommu.restore(fmt, d as PtPreserveDescriptor, mem, restoreOptions(mem));
  } catch (e) {
    err = e;
  }
  expect(err, `restore should refuse (${msg})`).toBeInstanceOf(PtError);
  expect((err as PtError).code).toBe('EINVAL');
  expect((err as PtError).message).toMatch(msg);
  // Nothing adopted, nothing leaked.
  expect(mem.pagesInUse).toBe(inUse);
  expect(mem.reservedPages).toBe(reserved);
}

/** A table with four levels of use: two leaf tables under one parent, a large leaf. */
function sample(kf: KunitFormat, n: number): { priv: KunitPriv; d: PtPreserveDescriptor } {
  const priv = new KunitPriv(kf, n);
  const t = priv.table;
  const pg = priv.smallestPgsz;
  const span = 1n << BigInt(t.common.itemLg2sz[1]!);
  const va = windowBase(t);
  t.mapRange(va, oaBase(t), pg, 3);
  t.mapRange(va + span, oaBase(t) + span, pg, 3);
  t.mapRange(va + 4n * span, oaBase(t) + 4n * span, span, 3);
  return { priv, d: JSON.parse(JSON.stringify(t.preserve())) as PtPreserveDescriptor };
}

/** Write, into the first empty item (past item 0) of the table at pa, a table pointer to `target`, as map would. */
function installPointer(t: PtIommu, pa: number, level: number, target: number): void {
  const common = t.common;
  const range = new PtRange(common);
  const pts = new PtState(range).init(range, level, pa);
  const attrs = new PtWriteAttrs();
  expect(common.fmt.iommuSetProt(common, attrs, 3)).toBe(0);
  for (let i = 1; i < 2 ** common.numItemsLg2[level]!; i++) {
    pts.index = i;
    if (common.fmt.loadEntryRaw(pts) !== PT_ENTRY_EMPTY) continue;
    expect(common.fmt.installTable(pts, target, attrs)).toBe(true);
    return;
  }
  throw new Error(`no empty item in table 0x${pa.toString(16)}`);
}

export function describePreserveSuite(kf: KunitFormat, opts: PreserveSuiteOptions = {}): void {
  const fmt = kf.format;
  describe(`${fmt.name} preserve and restore`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it('preserve -> JSON -> restore, in the same memory and from an image: identical dumps and translations, then ops continue', () => {
          fc.assert(
            fc.property(
              fc.array(opArb, { minLength: 1, maxLength: 25 }),
              fc.array(opArb, { maxLength: 25 }),
              fc.boolean(),
              (before, after, viaImage) => {
                const priv = new KunitPriv(kf, n, { hitless: HITLESS });
                const pg = priv.smallestPgsz;
                const model = new IntervalMap();
                runOps(priv.table, model, pg, before);
                const dump = json(dumpTable(priv.table));
                const d = JSON.parse(JSON.stringify(priv.table.preserve())) as PtPreserveDescriptor;
                expect(descPages(d)).toBe(priv.mem.pagesInUse);
                let mem = priv.mem;
                if (viaImage) mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
                const inUse = mem.pagesInUse;
                const t = PtIommu.restore(fmt, d, mem, restoreOptions(mem));
                // Same memory: the pages were the old table's and are now t's; from an image: claimed.
                expect(mem.pagesInUse).toBe(viaImage ? descPages(d) : inUse);
                expect(json(dumpTable(t))).toBe(dump);
                expectModelTranslations(t, model, pg);
                mem.releaseReserved();
                runOps(t, model, pg, after);
                expectModelTranslations(t, model, pg);
                t.deinit();
                expect(mem.pagesInUse).toBe(0);
              },
            ),
            { numRuns: opts.numRuns ?? 20, ...(opts.seed !== undefined ? { seed: opts.seed } : {}) },
          );
        });

        it('a descriptor listing a page twice, misaligned or too small is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          expectRefused(fmt, { ...d, tables: [...d.tables, d.tables[1]!] }, mem, /listed twice/);
          expectRefused(fmt, { ...d, tables: d.tables.map((e, i) => (i === 1 ? { ...e, pa: e.pa + 2048 } : e)) }, mem, /not aligned/);
          expectRefused(fmt, { ...d, tables: d.tables.map((e, i) => (i === 0 ? { ...e, sizeLg2: 11 } : e)) }, mem, /sizeLg2/);
          expectRefused(fmt, { ...d, topPa: d.tables[1]!.pa }, mem, /the top .* is listed at level/);
          expectRefused(fmt, { ...d, kind: 'other' }, mem, /descriptor\.kind/);
          expectRefused(fmt, null, mem, /descriptor must be an object/);
          expectRefused(fmt, { ...d, config: { ...d.config, hwMaxVaszLg2: 99 } }, mem, /descriptor\.config/);
          // And the good descriptor then restores.
          const t = PtIommu.restore(fmt, d, mem, restoreOptions(mem));
          expect(mem.pagesInUse).toBe(descPages(d));
          t.deinit();
          expect(mem.pagesInUse).toBe(0);
        });

        it('preserve of a table with a pointer outside its memory is EFAULT', () => {
          const { priv, d } = sample(kf, n);
          installPointer(priv.table, d.topPa, d.topLevel, priv.mem.endPa + 2 ** 20);
          expect(() => priv.table.preserve()).toThrow(/EFAULT: preserve: .*outside the table memory/);
        });

        it('a pointer to an unlisted page is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          // Drop the last (a leaf table): its parent now points at an unlisted page.
          expectRefused(fmt, { ...d, tables: d.tables.slice(0, -1) }, mem, /does not list/);
        });

        it('a wrong level is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          const i = d.tables.length - 1;
          expectRefused(
            fmt,
            { ...d, tables: d.tables.map((e, j) => (j === i ? { ...e, level: e.level + 1 } : e)) },
            mem,
            /listed at level/,
          );
        });

        it('a cycle is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          // A lower table points back at the top.
          const low = d.tables[d.tables.length - 1]!;
          const parent = d.tables.find((e) => e.level === low.level + 1)!;
          installPointer(priv.table, parent.pa, parent.level, d.topPa);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          expectRefused(fmt, d, mem, /a cycle or a shared table/);
        });

        it('a table shared by two pointers is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          // A second pointer in the top to the top's child.
          installPointer(priv.table, d.topPa, d.topLevel, d.tables[1]!.pa);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          expectRefused(fmt, d, mem, /a cycle or a shared table/);
        });

        it('a truncated image is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          const img = imageOf(priv.mem);
          const last = Math.max(...d.tables.map((e) => e.pa - priv.mem.basePa + 2 ** e.sizeLg2));
          for (const cut of [last - 4096, last - 1]) {
            const mem = TableMemory.fromImage(img.slice(0, cut), { basePa: priv.mem.basePa });
            expectRefused(fmt, d, mem, /truncated image|not a reserved page/);
          }
        });

        it('a wrong format is EINVAL, nothing adopted', () => {
          const { priv, d } = sample(kf, n);
          const mem = TableMemory.fromImage(imageOf(priv.mem), { basePa: priv.mem.basePa });
          expectRefused(fmt, { ...d, format: `${fmt.name}-other` }, mem, /another format/);
        });
      });
    });
  });
}
