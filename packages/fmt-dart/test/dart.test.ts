/**
 * What is particular to DART, beyond the shared suites: the v1 and v2 leaf
 * and table encodings for every prot, the granule the page-size bitmap
 * chooses (and the 16 KiB tables it sizes), the configs init refuses, the
 * level 2 TTBR table of a VA wider than two levels, and hw_info.
 */
import { bit, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE, isPtError } from '@genpt/pt-core';
import { dumpTable, IommuIotlbGather, PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { PT_FEAT_DART_V2, dart, type DartCfg } from '../dist/index.js';

const RW = IOMMU_READ | IOMMU_WRITE;
const V2 = bit(PT_FEAT_DART_V2);
const V1_CFG: DartCfg = { features: 0, hwMaxVaszLg2: 30, hwMaxOaszLg2: 36, pgsizeBitmap: 0x1000 };
const V2_CFG: DartCfg = { features: V2, hwMaxVaszLg2: 36, hwMaxOaszLg2: 42, pgsizeBitmap: 0x4000 };

/** Every stored item of t as [level, index, raw hex, kind]. */
function items(t: PtIommu): Array<[number, number, string, string]> {
  return dumpTable(t).tables.flatMap((tb) =>
    tb.entries.map((e) => [tb.level, e.index, '0x' + e.canonical.toString(16), e.kind] as [number, number, string, string]),
  );
}

function initErr(cfg: DartCfg): string | 0 {
  try {
    PtIommu.init(dart, cfg).deinit();
    return 0;
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
}

/** The raw leaf a one-page map with `prot` writes. */
function leafFor(cfg: DartCfg, prot: number, pa: bigint): bigint {
  const t = PtIommu.init(dart, cfg);
  const pg = BigInt(cfg.pgsizeBitmap & (V2 & cfg.features ? ~0x3fff : ~0));
  const size = pg & -pg;
  t.mapRange(0n, pa, size, prot);
  const leaf = dumpTable(t).tables.at(-1)!.entries[0]!.canonical;
  expect(BigInt(t.iovaToPhys(0x123n))).toBe(pa + 0x123n);
  t.deinit();
  return leaf;
}

describe('v1 leaves (4 KiB, OA bits 35:12)', () => {
  it('VALID, SP_DIS on every leaf, NO_WRITE (bit 7) and NO_READ (bit 8) for what prot leaves out, the whole sub-page range', () => {
    const sub = 0xfffn << 40n;
    const pa = 0xf_1234_5000n;
    expect(leafFor(V1_CFG, RW, pa)).toBe(sub | pa | 0x3n);
    expect(leafFor(V1_CFG, IOMMU_READ, pa)).toBe(sub | pa | 0x3n | 0x80n);
    expect(leafFor(V1_CFG, IOMMU_WRITE, pa)).toBe(sub | pa | 0x3n | 0x100n);
    // CACHE and NOEXEC have no v1 bits.
    expect(leafFor(V1_CFG, RW | IOMMU_CACHE | IOMMU_NOEXEC, pa)).toBe(sub | pa | 0x3n);
  });
});

describe('v2 leaves (16 KiB, OA / 16 KiB in bits 37:10)', () => {
  it('NO_CACHE (bit 1) unless IOMMU_CACHE, NO_WRITE (bit 2), NO_READ (bit 3), the address >> 4', () => {
    const sub = 0xfffn << 40n;
    const pa = 0x3ff_ffff_c000n; // the highest 16 KiB page of 42 bits
    const field = pa >> 4n;
    expect(leafFor(V2_CFG, RW | IOMMU_CACHE, pa)).toBe(sub | field | 0x1n);
    expect(leafFor(V2_CFG, RW, pa)).toBe(sub | field | 0x3n);
    expect(leafFor(V2_CFG, IOMMU_READ | IOMMU_CACHE, pa)).toBe(sub | field | 0x5n);
    expect(leafFor(V2_CFG, IOMMU_WRITE | IOMMU_CACHE, pa)).toBe(sub | field | 0x9n);
  });

  it('table pointers hold the 16 KiB table address >> 4 and VALID; tables are 16 KiB', () => {
    const t = PtIommu.init(dart, V2_CFG);
    t.mapRange(0x2000000n, 0x4000n, 0x4000n, RW);
    const top = t.common.topTable;
    expect(t.common.mem.blockLg2(top)).toBe(14);
    const [ptr] = items(t);
    expect(ptr![0]).toBe(1);
    const raw = BigInt(t.common.mem.readBytes(top + ptr![1] * 8, 8).reduce((a, b, i) => a + b * 2 ** (8 * i), 0));
    const lower = Number((raw & 0x3f_ffff_fc00n) << 4n);
    expect(raw & 1n).toBe(1n);
    expect(t.common.mem.blockLg2(lower)).toBe(14);
    expect(t.getInfo().pgsizeBitmap).toBe(0x4000n);
    t.deinit();
  });
});

describe('init', () => {
  it('the granule is the lowest page size of the bitmap; v2 drops sizes below 16 KiB', () => {
    const v2 = PtIommu.init(dart, { ...V2_CFG, pgsizeBitmap: 0x5000 });
    expect(v2.common.granuleLg2sz).toBe(14);
    expect(v2.getInfo().pgsizeBitmap).toBe(0x4000n);
    v2.deinit();
    const v1 = PtIommu.init(dart, { ...V1_CFG, pgsizeBitmap: 0x5000 });
    expect(v1.common.granuleLg2sz).toBe(12);
    v1.deinit();
  });

  it('refuses an OA width other than 36 or 42, a VA wider than the OA, and a bitmap without 4 KiB or 16 KiB', () => {
    expect(initErr({ ...V1_CFG, hwMaxOaszLg2: 40 })).toBe('EOPNOTSUPP');
    expect(initErr({ ...V1_CFG, hwMaxVaszLg2: 37 })).toBe('EOPNOTSUPP');
    expect(initErr({ ...V1_CFG, pgsizeBitmap: 0x10000 })).toBe('EOPNOTSUPP');
    expect(initErr({ ...V2_CFG, pgsizeBitmap: 0x1000 })).toBe('EOPNOTSUPP');
    expect(initErr({ ...V1_CFG, pgsizeBitmap: -1 })).toBe('EINVAL');
    expect(initErr({ ...V1_CFG, pgsizeBitmap: 0.5 })).toBe('EINVAL');
  });

  it('past two levels, a level 2 table of up to four TTBRs; five or more is EOPNOTSUPP', () => {
    expect(initErr({ ...V1_CFG, hwMaxVaszLg2: 33 })).toBe('EOPNOTSUPP');
    expect(initErr({ ...V2_CFG, hwMaxVaszLg2: 39 })).toBe('EOPNOTSUPP');
    const t = PtIommu.init(dart, { ...V1_CFG, hwMaxVaszLg2: 32 });
    expect(t.common.topLevel).toBe(2);
    expect(t.hwInfo()).toEqual({ granuleLg2sz: 12, ttbrCount: 4, topTable: t.common.topTable, topLevel: 2 });
    // The last GiB sits behind TTBR 3.
    t.mapRange(0xfffff000n, 0x7000n, 0x1000n, IOMMU_READ);
    expect(BigInt(t.iovaToPhys(0xfffff010n))).toBe(0x7010n);
    const it = items(t);
    expect(it[0]!.slice(0, 2)).toEqual([2, 3]);
    expect(it.map((e) => e[3])).toEqual(['T', 'T', 'L']);
    const g = new IommuIotlbGather();
    expect(BigInt(t.unmapRange(0xfffff000n, 0x1000n, g))).toBe(0x1000n);
    t.deinit();
  });

  it('a two-level table has one TTBR, the top itself', () => {
    const t = PtIommu.init(dart, V1_CFG);
    expect(t.hwInfo()).toEqual({ granuleLg2sz: 12, ttbrCount: 1, topTable: t.common.topTable, topLevel: 1 });
    t.deinit();
  });
});

describe('limits', () => {
  it('a prot with neither read nor write is EINVAL (the core refuses it before the format)', () => {
    const t = PtIommu.init(dart, V1_CFG);
    expect(() => t.mapRange(0n, 0x1000n, 0x1000n, IOMMU_CACHE)).toThrow(/EINVAL/);
    expect(items(t)).toEqual([]);
    t.deinit();
  });

  it('an OA past 36 bits (v1) is refused and nothing is written', () => {
    const t = PtIommu.init(dart, V1_CFG);
    expect(() => t.mapRange(0n, 0x10_0000_0000n, 0x1000n, RW)).toThrow(/ERANGE|EINVAL/);
    expect(items(t)).toEqual([]);
    t.deinit();
  });

  it('no dirty tracking: set_dirty and read_and_clear_dirty are EOPNOTSUPP', () => {
    const t = PtIommu.init(dart, V2_CFG);
    t.mapRange(0n, 0x4000n, 0x4000n, RW);
    expect(t.hasDirtyTracking).toBe(false);
    t.deinit();
  });
});
