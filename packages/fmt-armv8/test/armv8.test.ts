/**
 * What is particular to ARMv8, beyond the shared suites and the golden
 * traces: stage 2 concatenated top tables against the Arm ARM's rules (the
 * traces cannot hold them: the 7.0 core sizes every top as one granule),
 * the descriptor bits of each stage, the 52-bit OA encodings (LPA, LPA2),
 * TTBR1, the io-pgtable-arm encoding option, and hw_info.
 */
import { bit, IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE, isPtError } from '@genpt/pt-core';
import { dumpTable, IommuIotlbGather, PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import {
  PT_FEAT_ARMV8_DBM,
  PT_FEAT_ARMV8_LPA,
  PT_FEAT_ARMV8_LPA2,
  PT_FEAT_ARMV8_NS,
  PT_FEAT_ARMV8_S2,
  PT_FEAT_ARMV8_S2FWB,
  PT_FEAT_ARMV8_TTBR1,
  armv8,
  type Armv8Cfg,
} from '../dist/index.js';

const RW = IOMMU_READ | IOMMU_WRITE;
const cfg = (tgszLg2: number, features: number, width = 48, extra: Partial<Armv8Cfg> = {}): Armv8Cfg => ({
  features,
  hwMaxVaszLg2: width,
  // An OA width the PS field encodes.
  hwMaxOaszLg2: [32, 36, 40, 42, 44, 48, 52].find((w) => w >= width) ?? 52,
  tgszLg2,
  ...extra,
});

function initErr(c: Armv8Cfg): string | 0 {
  try {
    PtIommu.init(armv8, c).deinit();
    return 0;
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
}

/** The raw leaf a map of one granule at iova writes. */
function leafOf(c: Armv8Cfg, prot: number, pa: bigint, iova = 0n): bigint {
  const t = PtIommu.init(armv8, c);
  t.mapRange(iova, pa, 1n << BigInt(c.tgszLg2), prot);
  const leaf = dumpTable(t).tables.at(-1)!.entries[0]!.raw;
  expect(BigInt(t.iovaToPhys(iova + 0x10n))).toBe(pa + 0x10n);
  t.deinit();
  return leaf;
}

describe('stage 2 concatenated top tables (Arm ARM D8.2.2, I_TDMHR; at most 16)', () => {
  // [granule, IPA bits, top level, top tables concatenated]
  const cases: Array<[number, number, number, number]> = [
    [12, 40, 2, 2],
    [12, 42, 2, 8],
    [12, 43, 2, 16],
    [12, 44, 3, 1], // 32 entries at ARM level 0: 17 tables would be too many, so no concatenation
    [12, 48, 3, 1],
    [14, 40, 1, 16],
    [14, 48, 2, 2], // R_DXBSH: 16 KiB, 48-bit stage 2 starts at ARM level 1 with two tables
    [16, 42, 1, 1], // 2^13 entries: one 64 KiB table
    [16, 48, 2, 1],
  ];
  for (const [tg, ipa, top, tables] of cases) {
    it(`${2 ** (tg - 10)} KiB granule, ${ipa}-bit IPA: top at genpt level ${top}, ${tables} table(s) aligned to their size`, () => {
      const t = PtIommu.init(armv8, cfg(tg, bit(PT_FEAT_ARMV8_S2), ipa));
      const c = t.common;
      expect(c.topLevel).toBe(top);
      const topBytes = 2 ** (ipa - c.itemLg2sz[top]! + 3);
      expect(Math.max(topBytes, 32)).toBe(tables === 1 && topBytes < 2 ** tg ? topBytes : 2 ** tg * tables);
      // The top allocation is the concatenated tables, aligned to their total size.
      expect(2 ** c.mem.blockLg2(c.topTable)).toBeGreaterThanOrEqual(topBytes);
      expect(c.topTable % topBytes).toBe(0);
      // The highest IPA translates through the last concatenated table.
      const last = (1n << BigInt(ipa)) - (1n << BigInt(tg));
      t.mapRange(last, 0x40000000n, 1n << BigInt(tg), RW);
      expect(BigInt(t.iovaToPhys(last + 0x18n))).toBe(0x40000018n);
      const topDump = dumpTable(t).tables[0]!;
      expect(topDump.numItems).toBe(topBytes / 8);
      expect(topDump.entries.map((e) => e.index)).toEqual([topBytes / 8 - 1]);
      // S2SL0: the ARM starting level (4 KiB: 2 - ARM level; 16/64 KiB: genpt level).
      expect(t.hwInfo().s2).toEqual({ sl0: tg === 12 ? top - 1 : top, sl2: 0 });
      t.deinit();
    });
  }

  it('a 4 KiB stage 2 that would start at ARM level 3 needs FEAT_TTST: EINVAL', () => {
    expect(initErr(cfg(12, bit(PT_FEAT_ARMV8_S2), 21))).toBe('EINVAL');
  });

  it('stage 1 never concatenates: a 16 KiB 48-bit table has a two-entry top', () => {
    const t = PtIommu.init(armv8, cfg(14, bit(PT_FEAT_ARMV8_DBM)));
    expect(t.common.topLevel).toBe(3);
    expect(dumpTable(t).tables[0]!.numItems).toBe(2);
    t.deinit();
  });
});

describe('descriptors', () => {
  it('stage 1: AF, SH, AttrIndx from CACHE/MMIO, AP[2] read-only, AP[1] unless PRIV, nG, DBM on writable leaves, PXN for NOEXEC', () => {
    const c = cfg(12, bit(PT_FEAT_ARMV8_DBM));
    const pa = 0x8000_1000n;
    const base = pa | 0x3n | 0x400n | 0x800n; // valid+page, AF, nG
    expect(leafOf(c, RW | IOMMU_CACHE, pa)).toBe(base | (3n << 8n) | (1n << 2n) | (1n << 6n) | (1n << 51n));
    expect(leafOf(c, IOMMU_READ, pa)).toBe(base | (2n << 8n) | (3n << 6n));
    expect(leafOf(c, RW | IOMMU_MMIO | IOMMU_PRIV, pa)).toBe(base | (2n << 8n) | (2n << 2n) | (1n << 51n));
    expect(leafOf(c, RW | IOMMU_NOEXEC, pa)).toBe(base | (2n << 8n) | (1n << 6n) | (1n << 51n) | (1n << 54n));
  });

  it('stage 2: S2AP read/write, MemAttr (FWB forces write-back), no nG', () => {
    const pa = 0x8000_1000n;
    const base = pa | 0x3n | 0x400n;
    expect(leafOf(cfg(12, bit(PT_FEAT_ARMV8_S2)), RW | IOMMU_CACHE, pa)).toBe(base | (3n << 8n) | (0xfn << 2n) | (3n << 6n));
    expect(leafOf(cfg(12, bit(PT_FEAT_ARMV8_S2) | bit(PT_FEAT_ARMV8_S2FWB)), IOMMU_READ | IOMMU_CACHE, pa)).toBe(
      base | (3n << 8n) | (6n << 2n) | (1n << 6n),
    );
    expect(leafOf(cfg(12, bit(PT_FEAT_ARMV8_S2)), IOMMU_WRITE | IOMMU_MMIO, pa)).toBe(base | (2n << 8n) | (1n << 2n) | (2n << 6n));
  });

  it('NS marks stage 1 leaves (bit 5) and tables (NSTable, bit 63)', () => {
    const t = PtIommu.init(armv8, cfg(12, bit(PT_FEAT_ARMV8_NS)));
    t.mapRange(0n, 0x1000n, 0x1000n, RW);
    const d = dumpTable(t);
    for (const tb of d.tables.slice(0, -1)) expect(tb.entries[0]!.raw >> 63n).toBe(1n);
    expect(d.tables.at(-1)!.entries[0]!.raw & 0x20n).toBe(0x20n);
    t.deinit();
  });

  it('64 KiB with LPA: OA[51:48] in bits 15:12, for leaves and table pointers', () => {
    const pa = 0xf_1234_5678_0000n;
    const leaf = leafOf(cfg(16, bit(PT_FEAT_ARMV8_LPA), 52), RW, pa);
    expect(leaf & 0xffff_ffff_0000n).toBe(pa & 0xffff_ffff_0000n);
    expect((leaf >> 12n) & 0xfn).toBe(0xfn);
    expect(initErr(cfg(12, bit(PT_FEAT_ARMV8_LPA), 52))).toBe('EOPNOTSUPP');
  });

  it('4 KiB with LPA2: OA[51:50] in bits 9:8 (no SH), a 52-bit VA, a level -1 top, 512 GiB blocks', () => {
    const c = cfg(12, bit(PT_FEAT_ARMV8_LPA2), 52);
    const pa = 0xc_0000_1234_5000n;
    const leaf = leafOf(c, RW | IOMMU_CACHE, pa);
    expect((leaf >> 8n) & 3n).toBe(3n);
    expect(leaf & 0x3_ffff_ffff_f000n).toBe(pa & 0x3_ffff_ffff_f000n);
    const t = PtIommu.init(armv8, c);
    expect(t.common.topLevel).toBe(4);
    expect(t.getInfo().pgsizeBitmap & (1n << 39n)).toBe(1n << 39n);
    expect(t.hwInfo().ds).toBe(1);
    t.deinit();
    expect(initErr(cfg(16, bit(PT_FEAT_ARMV8_LPA2), 52))).toBe('EOPNOTSUPP');
  });

  it('TTBR1: the upper VA range, EPD0 set', () => {
    const t = PtIommu.init(armv8, cfg(12, bit(PT_FEAT_ARMV8_TTBR1)));
    const va = 0xffff_8000_0000_0000n;
    t.mapRange(va, 0x5000n, 0x1000n, RW);
    expect(BigInt(t.iovaToPhys(va + 4n))).toBe(0x5004n);
    expect(() => t.mapRange(0x1000n, 0x5000n, 0x1000n, RW)).toThrow(/ERANGE/);
    expect(t.hwInfo()).toMatchObject({ tsz: 16, tg: 2, s1: { epd0: 1, epd1: 0, mair: 0xf404ff44 } });
    expect(initErr(cfg(12, bit(PT_FEAT_ARMV8_TTBR1) | bit(PT_FEAT_ARMV8_S2)))).toBe('EOPNOTSUPP');
    t.deinit();
  });
});

describe('the io-pgtable-arm encoding (ioPgtableEncoding: 1)', () => {
  it('NOEXEC sets both XN bits and no contiguous sizes are offered', () => {
    const c = cfg(12, bit(PT_FEAT_ARMV8_DBM), 48, { ioPgtableEncoding: 1 });
    const leaf = leafOf(c, RW | IOMMU_NOEXEC, 0x1000n);
    expect((leaf >> 53n) & 3n).toBe(3n);
    const t = PtIommu.init(armv8, c);
    expect(t.getInfo().pgsizeBitmap).toBe(0x40201000n);
    // A 64 KiB aligned range is sixteen pages, not one contiguous entry.
    t.mapRange(0x10000n, 0x10000n, 0x10000n, RW);
    expect(
      dumpTable(t)
        .tables.at(-1)!
        .entries.every((e) => !((e.raw >> 52n) & 1n)),
    ).toBe(true);
    const g = new IommuIotlbGather();
    expect(BigInt(t.unmapRange(0x10000n, 0x10000n, g))).toBe(0x10000n);
    t.deinit();
    expect(initErr({ ...c, ioPgtableEncoding: 2 })).toBe('EINVAL');
  });
});

describe('one granule page on a 16 KiB / 64 KiB table (the single-page paths)', () => {
  for (const tg of [14, 16]) {
    it(`${2 ** (tg - 10)} KiB: the same table and results as the general walk, and a narrowed domain gets the general answer`, () => {
      const page = 2 ** tg;
      const iova = 2 ** 32;
      const oa = 2 ** 33;
      const fast = PtIommu.init(armv8, cfg(tg, bit(PT_FEAT_ARMV8_DBM)), { checked: true });
      const slow = PtIommu.init(armv8, cfg(tg, bit(PT_FEAT_ARMV8_DBM)), { checked: true });
      const gf = new IommuIotlbGather();
      const gs = new IommuIotlbGather();
      // Tables first (the single-page path only runs under existing tables). Then the page on
      // `fast` (one page: the single-page path) and on `slow` by the general walk (two pages
      // mapped, the second unmapped again).
      for (const t of [fast, slow]) t.mapRange(iova + 2 * page, oa + 2 * page, page, RW);
      expect(fast.mapRange(iova, oa, page, RW)).toBe(page);
      expect(slow.mapRange(iova, oa, 2 * page, RW)).toBe(2 * page);
      expect(slow.unmapRange(iova + page, page, gs)).toBe(page);
      expect(fast.iovaToPhys(iova + page - 1)).toBe(oa + page - 1);
      expect(dumpTable(fast).tables.map((t) => t.entries)).toEqual(dumpTable(slow).tables.map((t) => t.entries));
      // Unmap of one page, and of a misaligned page (nothing unmapped, as the general walk).
      expect(fast.unmapRange(iova + 4096, page, gf)).toBe(0);
      expect(fast.unmapRange(iova, page, gf)).toBe(page);
      expect(fast.iovaToPhys(iova)).toBe(0);
      // A misaligned page is ENXIO from either path; a domain without the page size too.
      expect(() => fast.mapRange(iova + 4096, oa, page, RW)).toThrow(/ENXIO/);
      fast.domain.pgsizeBitmap = BigInt(2 ** (tg + (tg === 14 ? 11 : 13)));
      expect(() => fast.mapRange(iova, oa, page, RW)).toThrow(/ENXIO/);
      expect(fast.iovaToPhys(iova)).toBe(0);
      fast.deinit();
      slow.deinit();
    });
  }
});
