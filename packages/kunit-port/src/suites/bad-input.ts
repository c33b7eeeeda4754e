/**
 * Every operation given bad input: the kernel's errno, and the table left as
 * the kernel leaves it — unchanged where it validates before writing (the
 * dump before and after is identical), its partial result where it has one.
 */
import { PT_FEAT_SIGN_EXTEND, type U64 } from '@genpt/pt-core';
import { dumpTable, IommuDirtyBitmap, IommuIotlbGather, type PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { describeCorruptTable } from './corrupt.js';
import { describeFuzz } from './fuzz.js';
import { snapshot, typedOutcome } from './outcome.js';
import { describeStrict } from './strict.js';
import { firstVa, vaInto } from './window.js';

const RW = 3;
const M64 = (1n << 64n) - 1n;

function codeOf(fn: () => unknown): { code: string | 0; mapped?: U64 | undefined } {
  const r = typedOutcome(fn);
  return r.code === 'ok' ? { code: 0 } : { code: r.code, mapped: r.mapped };
}

interface Ctx {
  t: PtIommu;
  pg: bigint;
  base: bigint;
  maxOa: number;
  /** First VA past what the table can ever span. */
  beyond: bigint | null;
  free: bigint;
  leaf: bigint;
  /** The table's first VA: OA = VA - first maps an upper-half (TTBR1) table inside the OA width too. */
  first: bigint;
}

/** A table holding one smallest page at base, with free space after it. */
function setup(kf: KunitFormat, n: number): Ctx {
  const priv = new KunitPriv(kf, n);
  const t = priv.table;
  const base = vaInto(t, 30);
  const first = firstVa(t);
  const pg = priv.smallestPgsz;
  t.mapRange(base, base - first, pg, RW);
  const vasz = t.common.maxVaszLg2;
  const sext = t.common.feature(PT_FEAT_SIGN_EXTEND);
  const beyond = vasz >= 64 ? null : sext ? 1n << BigInt(vasz - 1) : 1n << BigInt(vasz);
  return { t, pg, base, maxOa: t.common.maxOaszLg2, beyond, free: base + 64n * pg, leaf: base, first };
}

type Case = { name: string; run: (c: Ctx) => void };

/** One bad call: errno as expected, table untouched. */
function refused(c: Ctx, expected: string, fn: () => unknown): void {
  const before = snapshot(c.t);
  const got = codeOf(fn);
  expect(got.code).toBe(expected);
  if (got.mapped !== undefined) expect(BigInt(got.mapped)).toBe(0n);
  expect(snapshot(c.t), 'table changed by a refused call').toBe(before);
}

const cases: Case[] = [
  {
    name: 'map: prot without READ or WRITE, or bits the kernel does not define',
    run: (c) => {
      for (const prot of [0, 4, 8, 16, 32, 4 | 8 | 16 | 32]) refused(c, 'EINVAL', () => c.t.mapRange(c.free, 0, c.pg, prot));
      for (const prot of [64, -1, 1.5, NaN, 0x100]) refused(c, 'EINVAL', () => c.t.mapRange(c.free, 0, c.pg, prot));
      // Past 32 bits: not truncated to its low bits (2^32 + 3 is not READ|WRITE).
      for (const prot of [2 ** 32 + 3, 2 ** 40 + 1, '3' as unknown as number]) {
        refused(c, 'EINVAL', () => c.t.mapRange(c.free, 0, c.pg, prot));
        refused(c, 'EINVAL', () => c.t.mapPages(c.free, 0, c.pg, 1, prot));
      }
    },
  },
  {
    name: 'map: misaligned IOVA or OA',
    run: (c) => {
      refused(c, 'ENXIO', () => c.t.mapRange(c.free + c.pg / 2n, 0, c.pg, RW));
      refused(c, 'ENXIO', () => c.t.mapRange(c.free, c.pg / 2n, c.pg, RW));
    },
  },
  {
    name: 'map: zero, one-byte and wrapping lengths',
    run: (c) => {
      refused(c, 'EINVAL', () => c.t.mapRange(c.free, 0, 0, RW));
      refused(c, 'ENXIO', () => c.t.mapRange(c.free, 0, 1, RW));
      refused(c, 'EOVERFLOW', () => c.t.mapRange(c.free, 0, M64, RW));
      refused(c, 'EOVERFLOW', () => c.t.mapRange(M64 - c.pg + 1n, 0, 2n * c.pg, RW));
    },
  },
  {
    name: 'map: a length with a tail shorter than a page maps the head, then ENXIO',
    run: (c) => {
      const got = codeOf(() => c.t.mapRange(c.free, c.free - c.first, c.pg + c.pg / 2n, RW));
      expect(got.code).toBe('ENXIO');
      expect(BigInt(got.mapped!)).toBe(c.pg);
      expect(BigInt(c.t.iovaToPhys(c.free))).toBe(c.free - c.first);
      expect(BigInt(c.t.iovaToPhys(c.free + c.pg))).toBe(0n);
    },
  },
  {
    name: 'map: OA past the maximum, VA past the table',
    run: (c) => {
      refused(c, 'ERANGE', () => c.t.mapRange(c.free, 1n << BigInt(c.maxOa), c.pg, RW));
      if (c.beyond !== null) refused(c, 'ERANGE', () => c.t.mapRange(c.beyond!, 0, c.pg, RW));
    },
  },
  {
    name: 'map: over a live mapping',
    run: (c) => refused(c, 'EADDRINUSE', () => c.t.mapRange(c.leaf, 0, c.pg, RW)),
  },
  {
    name: 'map: values that are not u64s',
    run: (c) => {
      for (const v of [-1, 1.5, NaN, Infinity, 2 ** 53, '4096' as unknown as U64, null as unknown as U64, -1n]) {
        refused(c, 'EINVAL', () => c.t.mapRange(v, 0, c.pg, RW));
        refused(c, 'EINVAL', () => c.t.mapRange(c.free, v, c.pg, RW));
        refused(c, 'EINVAL', () => c.t.mapRange(c.free, 0, v, RW));
      }
      refused(c, 'EOVERFLOW', () => c.t.mapRange(1n << 64n, 0, c.pg, RW));
      refused(c, 'EOVERFLOW', () => c.t.mapRange(c.free, 0, 1n << 64n, RW));
    },
  },
  {
    name: 'map_pages: page sizes that are not powers of two, and overflowing counts',
    run: (c) => {
      refused(c, 'EINVAL', () => c.t.mapPages(c.free, 0, 0, 1, RW));
      refused(c, 'EINVAL', () => c.t.mapPages(c.free, 0, 3n * c.pg, 1, RW));
      refused(c, 'EOVERFLOW', () => c.t.mapPages(c.free, 0, c.pg, 1n << 63n, RW));
      refused(c, 'EINVAL', () => c.t.mapPages(c.free, 0, c.pg, -2, RW));
    },
  },
  {
    name: 'unmap: nothing is unmapped and the gather is left empty for a bad range',
    run: (c) => {
      const before = snapshot(c.t);
      const bad: Array<[U64, U64]> = [
        [c.leaf, 0],
        [M64 - c.pg + 1n, 2n * c.pg],
      ];
      if (c.beyond !== null) bad.push([c.beyond, c.pg]);
      for (const [iova, len] of bad) {
        const g = new IommuIotlbGather();
        expect(c.t.unmapRange(iova, len, g)).toBe(0);
        expect([g.start, g.end]).toEqual([M64, 0]);
      }
      expect(snapshot(c.t)).toBe(before);
    },
  },
  {
    name: 'unmap: a hole or the middle of a page unmaps nothing',
    run: (c) => {
      const before = snapshot(c.t);
      for (const iova of [c.free, c.leaf + c.pg / 2n]) {
        const g = new IommuIotlbGather();
        expect(c.t.unmapRange(iova, c.pg, g)).toBe(0);
        // the empty range [iova, iova - 1]
        expect([BigInt(g.start), BigInt(g.end)]).toEqual([iova, iova - 1n]);
      }
      expect(snapshot(c.t)).toBe(before);
    },
  },
  {
    name: 'unmap: values that are not u64s, or no gather',
    run: (c) => {
      refused(c, 'EINVAL', () => c.t.unmapRange(-1, c.pg, new IommuIotlbGather()));
      refused(c, 'EINVAL', () => c.t.unmapRange(c.leaf, 0.5, new IommuIotlbGather()));
      refused(c, 'EOVERFLOW', () => c.t.unmapRange(1n << 64n, c.pg, new IommuIotlbGather()));
      refused(c, 'EINVAL', () => c.t.unmapRange(c.leaf, c.pg, {} as IommuIotlbGather));
      refused(c, 'EINVAL', () => c.t.unmapPages(c.leaf, 3, 1, new IommuIotlbGather()));
    },
  },
  {
    name: 'iova_to_phys: outside the table, or not a u64',
    run: (c) => {
      if (c.beyond !== null) refused(c, 'ERANGE', () => c.t.iovaToPhys(c.beyond!));
      refused(c, 'EINVAL', () => c.t.iovaToPhys(-5));
      refused(c, 'EOVERFLOW', () => c.t.iovaToPhys(1n << 64n));
      expect(c.t.iovaToPhys(c.free)).toBe(0);
    },
  },
  {
    name: 'read_and_clear_dirty and set_dirty: bad ranges, flags, holes',
    run: (c) => {
      const d = () => new IommuDirtyBitmap();
      if (!c.t.hasDirtyTracking) {
        refused(c, 'EOPNOTSUPP', () => c.t.readAndClearDirty(c.leaf, c.pg, 0, d()));
        refused(c, 'EOPNOTSUPP', () => c.t.setDirty(c.leaf));
        return;
      }
      refused(c, 'EINVAL', () => c.t.readAndClearDirty(c.leaf, 0, 0, d()));
      refused(c, 'EOVERFLOW', () => c.t.readAndClearDirty(M64 - c.pg + 1n, 2n * c.pg, 0, d()));
      if (c.beyond !== null) refused(c, 'ERANGE', () => c.t.readAndClearDirty(c.beyond!, c.pg, 0, d()));
      refused(c, 'EINVAL', () => c.t.readAndClearDirty(c.leaf, c.pg, 2, d()));
      refused(c, 'EINVAL', () => c.t.readAndClearDirty(c.leaf, c.pg, 0, {} as IommuDirtyBitmap));
      refused(c, 'ENOENT', () => c.t.setDirty(c.free));
      if (c.beyond !== null) refused(c, 'ERANGE', () => c.t.setDirty(c.beyond!));
    },
  },
  {
    name: 'dump after deinit: ENODEV, not the freed pages',
    run: (c) => {
      c.t.deinit();
      expect(codeOf(() => dumpTable(c.t)).code).toBe('ENODEV');
    },
  },
];

/** The bad-input cases above, on a fresh table per case and config, corrupted tables (corrupt.ts), strict tables (strict.ts) and the fuzz suite (fuzz.ts). */
export function describeIommuPtBadInput(kf: KunitFormat): void {
  describeCorruptTable(kf);
  describeStrict(kf);
  describeFuzz(kf);
  describe(`${kf.format.name} bad input`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        for (const c of cases) {
          it(c.name, () => {
            const ctx = setup(kf, n);
            c.run(ctx);
            ctx.t.deinit();
          });
        }
      });
    });
  });
}
