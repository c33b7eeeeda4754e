/**
 * What is particular to the short descriptor, beyond the shared suites and
 * the io-pgtable traces: every page size under every prot combination and
 * config against an encoder written from io-pgtable-arm-v7s's rules
 * (arm_v7s_prot_to_pte, arm_v7s_pte_to_cont, the MTK address bits), table
 * pointers, TTBR1, the page-size bitmap, the configs init refuses, and
 * hw_info.
 */
import { TableMemory, bit, IOMMU_CACHE, IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_PRIV, IOMMU_READ, IOMMU_WRITE, isPtError } from '@genpt/pt-core';
import { dumpTable, IommuIotlbGather, PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import {
  ARMV7S_NMRR,
  ARMV7S_PRRR,
  PT_FEAT_ARMV7S_MTK_EXT,
  PT_FEAT_ARMV7S_NO_PERMS,
  PT_FEAT_ARMV7S_NS,
  PT_FEAT_ARMV7S_TTBR1,
  armv7s,
  type Armv7sCfg,
} from '../dist/index.js';

const PLAIN: Armv7sCfg = { features: 0, hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 };
const NS: Armv7sCfg = { features: bit(PT_FEAT_ARMV7S_NS), hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 };
const TTBR1: Armv7sCfg = { features: bit(PT_FEAT_ARMV7S_TTBR1), hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 };
const MTK: Armv7sCfg = { features: bit(PT_FEAT_ARMV7S_MTK_EXT) | bit(PT_FEAT_ARMV7S_NO_PERMS), hwMaxVaszLg2: 34, hwMaxOaszLg2: 35 };
const NO_PERMS: Armv7sCfg = { features: bit(PT_FEAT_ARMV7S_NO_PERMS), hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 };
const CFGS: Array<[string, Armv7sCfg]> = [
  ['plain', PLAIN],
  ['NS', NS],
  ['TTBR1', TTBR1],
  ['NO_PERMS', NO_PERMS],
  ['MTK_EXT', MTK],
];

/** The TTBR1 table's IOVAs: the 32-bit VA below a prefix of ones. */
const prefixOf = (cfg: Armv7sCfg): bigint => (cfg.features & bit(PT_FEAT_ARMV7S_TTBR1) ? 0xffff_ffff_0000_0000n : 0n);
const has = (cfg: Armv7sCfg, f: number) => (cfg.features & bit(f)) !== 0;

/** Every prot of READ/WRITE/CACHE/NOEXEC/MMIO/PRIV that grants some access. */
const PROTS = Array.from({ length: 64 }, (_, i) => {
  const flags = [IOMMU_READ, IOMMU_WRITE, IOMMU_CACHE, IOMMU_NOEXEC, IOMMU_MMIO, IOMMU_PRIV];
  return flags.reduce((p, f, b) => (i & (1 << b) ? p | f : p), 0);
}).filter((p) => p & (IOMMU_READ | IOMMU_WRITE));

const OA_MASK: Record<number, number> = { 12: 0xfffff000, 16: 0xffff0000, 20: 0xfff00000, 24: 0xff000000 };

/**
 * The descriptor io-pgtable-arm-v7s writes for one page of 2^sizeLg2 at oa,
 * written out from its rules: the attribute block at bit 10 (sections) or
 * 4 (pages), XN, B/C, the type, NS on sections, then the large page /
 * supersection form, then the address (and MediaTek's bits 32..34).
 */
function refPte(cfg: Armv7sCfg, prot: number, sizeLg2: number, oa: bigint): number {
  const lvl1 = sizeLg2 >= 20;
  const ap = !has(cfg, PT_FEAT_ARMV7S_NO_PERMS);
  let pte = (1 << 7) | (1 << 6); // nG, S
  if (!(prot & IOMMU_MMIO)) pte |= 1 << 2; // TEX[0]: normal memory
  if (ap) {
    pte |= 1; // AF
    if (!(prot & IOMMU_PRIV)) pte |= 1 << 1;
    if (!(prot & IOMMU_WRITE)) pte |= 1 << 5;
  }
  pte <<= lvl1 ? 10 : 4;
  if (prot & IOMMU_NOEXEC && ap) pte |= lvl1 ? 1 << 4 : 1;
  if (prot & IOMMU_MMIO) pte |= 1 << 2;
  else if (prot & IOMMU_CACHE) pte |= (1 << 2) | (1 << 3);
  pte |= 2;
  if (lvl1 && has(cfg, PT_FEAT_ARMV7S_NS)) pte |= 1 << 19;
  if (sizeLg2 === 24) pte |= 1 << 18;
  if (sizeLg2 === 16) {
    const xn = pte & 1;
    const tex = pte & (7 << 6);
    pte ^= xn | tex | 2;
    pte |= (xn << 15) | (tex << 6) | 1;
  }
  pte |= Number(oa & 0xffff_ffffn) & OA_MASK[sizeLg2]!;
  if (has(cfg, PT_FEAT_ARMV7S_MTK_EXT)) {
    if (oa & (1n << 32n)) pte |= 1 << 9;
    if (oa & (1n << 33n)) pte |= 1 << 4;
    if (oa & (1n << 34n)) pte |= 1 << 5;
  }
  return pte >>> 0;
}

/** Every stored item: level, index of the item within its table, its IOVA, raw value and kind. */
function items(t: PtIommu) {
  return dumpTable(t).tables.flatMap((tb) =>
    tb.entries.map((e) => ({
      level: tb.level,
      va: BigInt(tb.va) + (BigInt(e.index) << BigInt(tb.itemLg2sz)),
      raw: Number(e.raw),
      kind: e.kind,
      tablePa: e.tablePa,
    })),
  );
}

function initErr(cfg: Armv7sCfg, mem?: TableMemory): string | 0 {
  try {
    PtIommu.init(armv7s, cfg, mem ? { mem } : {}).deinit();
    return 0;
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
}

describe('every page size x every prot x every config, as io-pgtable-arm-v7s encodes it', () => {
  for (const [name, cfg] of CFGS) {
    for (const sizeLg2 of [12, 16, 20, 24]) {
      it(`${name}: 2^${sizeLg2} pages under all ${PROTS.length} prots`, () => {
        const t = PtIommu.init(armv7s, cfg);
        const size = 2n ** BigInt(sizeLg2);
        const prefix = prefixOf(cfg);
        // The OA above 4 GiB under MediaTek's extension exercises all three extra bits.
        const oaBase = has(cfg, PT_FEAT_ARMV7S_MTK_EXT) ? 0x5_0000_0000n : 0x8000_0000n;
        const want = new Map<bigint, number>();
        PROTS.forEach((prot, n) => {
          const iova = prefix + BigInt(n) * size;
          const oa = oaBase + BigInt(n) * size;
          t.mapRange(iova, oa, size, prot);
          expect(BigInt(t.iovaToPhys(iova + size - 1n))).toBe(oa + size - 1n);
          const pte = refPte(cfg, prot, sizeLg2, oa);
          // A large page and a supersection repeat one descriptor over 16 items.
          const step = sizeLg2 === 16 ? 0x1000n : sizeLg2 === 24 ? 0x100000n : size;
          for (let va = iova; va < iova + size; va += step) want.set(va, pte);
        });
        const leaves = items(t).filter((e) => e.kind === 'L');
        expect(leaves.length).toBe(want.size);
        for (const e of leaves) expect([e.va, e.raw.toString(16)]).toEqual([e.va, want.get(e.va)?.toString(16)]);
        t.deinit();
      });
    }
  }
});

describe('table pointers', () => {
  it('hold the 1 KiB-aligned second-level table address and type 0b01; NS adds bit 3', () => {
    for (const cfg of [PLAIN, NS]) {
      const t = PtIommu.init(armv7s, cfg);
      t.mapRange(0x300000n, 0x1000n, 0x1000n, IOMMU_READ);
      const [ptr] = items(t);
      expect(ptr!.kind).toBe('T');
      const pa = Number(ptr!.tablePa);
      expect(pa % 1024).toBe(0);
      expect(pa).toBeLessThan(2 ** 32);
      expect(ptr!.raw >>> 0).toBe((pa | 1 | (cfg === NS ? 8 : 0)) >>> 0);
      t.deinit();
    }
  });

  it('a small page carries no NS bit of its own: only the table pointer says non-secure', () => {
    const t = PtIommu.init(armv7s, NS);
    t.mapRange(0x300000n, 0x1000n, 0x1000n, IOMMU_READ);
    const leaf = items(t).find((e) => e.kind === 'L')!;
    expect(leaf.raw & (1 << 19)).toBe(0);
    expect(leaf.raw).toBe(refPte(NS, IOMMU_READ, 12, 0x1000n));
    t.deinit();
  });
});

describe('TTBR1: the upper half of the IOVA space', () => {
  it('maps and translates below a full-VA prefix of ones, refuses the lower half, and says so in hw_info', () => {
    const t = PtIommu.init(armv7s, TTBR1);
    const iova = 0xffff_ffff_8000_0000n;
    t.mapRange(iova, 0x4000_0000n, 0x200000n, IOMMU_READ | IOMMU_WRITE);
    expect(BigInt(t.iovaToPhys(iova + 0x1fffffn))).toBe(0x401f_ffffn);
    expect(() => t.mapRange(0x8000_0000n, 0x4000_0000n, 0x1000n, IOMMU_READ)).toThrow(/ERANGE/);
    expect(() => t.mapRange(0xffff_fffe_f000_0000n, 0x4000_0000n, 0x1000n, IOMMU_READ)).toThrow(/ERANGE/);
    // Item 2048 of the first-level table is VA bits 31:20 = 0x800.
    expect(items(t).map((e) => [e.level, e.va.toString(16)])).toEqual([
      [1, iova.toString(16)],
      [1, (iova + 0x100000n).toString(16)],
    ]);
    expect(t.hwInfo().ttbr1).toBe(true);
    const g = new IommuIotlbGather();
    expect(BigInt(t.unmapRange(iova, 0x200000n, g))).toBe(0x200000n);
    expect(BigInt(t.iovaToPhys(iova))).toBe(0n);
    t.deinit();
  });
});

describe('the page-size bitmap', () => {
  it('without 64 KiB and 16 MiB, a 16 MiB aligned map is 16 sections and a 64 KiB one 16 small pages', () => {
    const cfg: Armv7sCfg = { ...PLAIN, pgsizeBitmap: 0x101000 };
    const t = PtIommu.init(armv7s, cfg);
    expect(t.getInfo().pgsizeBitmap).toBe(0x101000n);
    t.mapRange(0x1000000n, 0x2000000n, 0x1000000n, IOMMU_READ);
    t.mapRange(0x10000n, 0x30000n, 0x10000n, IOMMU_READ);
    const leaves = items(t).filter((e) => e.kind === 'L');
    expect(leaves.filter((e) => e.level === 1).map((e) => e.raw)).toEqual(
      Array.from({ length: 16 }, (_, i) => refPte(cfg, IOMMU_READ, 20, 0x2000000n + BigInt(i) * 0x100000n)),
    );
    expect(leaves.filter((e) => e.level === 0).map((e) => e.raw)).toEqual(
      Array.from({ length: 16 }, (_, i) => refPte(cfg, IOMMU_READ, 12, 0x30000n + BigInt(i) * 0x1000n)),
    );
    t.deinit();
  });

  it('with 1 MiB only, a 4 KiB map has no page size (ENXIO, as the generic core) and a 1 MiB one is a section', () => {
    const cfg: Armv7sCfg = { ...PLAIN, pgsizeBitmap: 0x100000 };
    const t = PtIommu.init(armv7s, cfg);
    expect(t.getInfo().pgsizeBitmap).toBe(0x100000n);
    expect(() => t.mapRange(0n, 0x1000n, 0x1000n, IOMMU_READ)).toThrow(/ENXIO/);
    t.mapRange(0x100000n, 0x100000n, 0x100000n, IOMMU_READ);
    expect(items(t).map((e) => e.raw)).toEqual([refPte(cfg, IOMMU_READ, 20, 0x100000n)]);
    t.deinit();
  });

  it('keeps only the four sizes the format has', () => {
    const t = PtIommu.init(armv7s, { ...PLAIN, pgsizeBitmap: 0xffff_f000 });
    expect(t.getInfo().pgsizeBitmap).toBe(0x1111000n);
    t.deinit();
  });
});

describe("MediaTek's 34-bit OA", () => {
  it('translates OAs up to 2^35 and refuses one past it', () => {
    const t = PtIommu.init(armv7s, MTK);
    t.mapRange(0x3_0000_0000n, 0x7_ff00_0000n, 0x1000000n, IOMMU_READ);
    expect(BigInt(t.iovaToPhys(0x3_00ff_ffffn))).toBe(0x7_ffff_ffffn);
    expect(items(t)[0]!.raw).toBe(refPte(MTK, IOMMU_READ, 24, 0x7_ff00_0000n));
    expect(() => t.mapRange(0x1000000n, 0x8_0000_0000n, 0x1000n, IOMMU_READ)).toThrow(/ERANGE/);
    t.deinit();
  });

  it('a 32-bit table refuses an OA at or above 4 GiB', () => {
    const t = PtIommu.init(armv7s, PLAIN);
    expect(() => t.mapRange(0n, 0x1_0000_0000n, 0x1000n, IOMMU_READ)).toThrow(/ERANGE/);
    t.deinit();
  });
});

describe('splitting keeps the attributes (attr_from_entry between the three encodings)', () => {
  for (const [name, cfg] of CFGS) {
    it(`${name}: a supersection split to large pages and a section to small pages equal direct maps`, () => {
      const prefix = prefixOf(cfg);
      for (const prot of PROTS) {
        for (const [from, to] of [
          [24, 16],
          [20, 12],
        ] as const) {
          // Split is hitless only where the hardware allows it: the debug table allows it everywhere.
          const t = PtIommu.init(armv7s, cfg, { debug: true, hitless: { oaSizeChange: true, oaTableXchg: true } });
          const size = 2n ** BigInt(from);
          const oa = has(cfg, PT_FEAT_ARMV7S_MTK_EXT) ? 0x3_0000_0000n : 0x4000_0000n;
          t.mapRange(prefix + 0x1000000n, oa, size, prot);
          t.splitRange(prefix + 0x1000000n, size, to, new IommuIotlbGather());
          const leaves = items(t).filter((e) => e.kind === 'L');
          expect(leaves.length).toBe(2 ** (from - 12));
          const step = 1n << 12n;
          for (const e of leaves) {
            const pageOa = oa + ((((e.va - prefix - 0x1000000n) / step) * step) & ~(2n ** BigInt(to) - 1n));
            expect(e.raw.toString(16)).toBe(refPte(cfg, prot, to, pageOa).toString(16));
          }
          t.deinit();
        }
      }
    });
  }
});

describe('init', () => {
  it('refuses what io-pgtable-arm-v7s refuses, and table memory a 32-bit pointer cannot reach', () => {
    expect(initErr(PLAIN)).toBe(0);
    expect(initErr(MTK)).toBe(0);
    // MediaTek's OA bits sit where the AP bits are: it needs NO_PERMS.
    expect(initErr({ ...MTK, features: bit(PT_FEAT_ARMV7S_MTK_EXT) })).toBe('EINVAL');
    expect(initErr({ ...PLAIN, hwMaxVaszLg2: 33 })).toBe('EINVAL');
    expect(initErr({ ...MTK, hwMaxVaszLg2: 35 })).toBe('EINVAL');
    expect(initErr({ ...PLAIN, hwMaxVaszLg2: 20 })).toBe('EINVAL');
    expect(initErr({ ...PLAIN, pgsizeBitmap: 0x2000 })).toBe('EINVAL');
    expect(initErr({ ...PLAIN, pgsizeBitmap: -1 })).toBe('EINVAL');
    expect(initErr(PLAIN, new TableMemory({ basePa: 2 ** 32 - 2 ** 20, maxBytes: 2 ** 21 }))).toBe('EINVAL');
    expect(initErr(PLAIN, new TableMemory({ basePa: 2 ** 31, maxBytes: 2 ** 24 }))).toBe(0);
  });

  it('a 34-bit IOVA under MediaTek has a 16384-item first-level table', () => {
    const t = PtIommu.init(armv7s, MTK);
    t.mapRange(0x3_fff0_0000n, 0x100000n, 0x100000n, IOMMU_READ);
    expect(BigInt(t.iovaToPhys(0x3_fff0_0123n))).toBe(0x100123n);
    const top = dumpTable(t).tables[0]!;
    expect(top.numItems).toBe(16384);
    expect(top.entries.map((e) => e.index)).toEqual([16383]);
    expect(() => t.mapRange(0x4_0000_0000n, 0n, 0x1000n, IOMMU_READ)).toThrow(/ERANGE/);
    t.deinit();
  });
});

describe('hw_info', () => {
  it('TTBR = top table | the coherent walk attributes (0x6a), TTBCR 0, the TEX remap registers', () => {
    const t = PtIommu.init(armv7s, NS);
    const hw = t.hwInfo();
    expect(hw.topTable % 2 ** 14).toBe(0);
    expect(hw).toMatchObject({ ttbrAttrs: 0x6a, tcr: 0, prrr: ARMV7S_PRRR, nmrr: ARMV7S_NMRR, ttbr1: false, topLevel: 1 });
    expect(hw.ttbr).toBe(hw.topTable + 0x6a);
    expect([ARMV7S_PRRR, ARMV7S_NMRR]).toEqual([0x800b8204, 0x40004000]);
    t.deinit();
  });

  it("MediaTek's TTBR carries the table's bits above 32 instead (none: tables stay below 4 GiB)", () => {
    const t = PtIommu.init(armv7s, MTK);
    const hw = t.hwInfo();
    expect(hw.ttbrAttrs).toBe(0);
    expect(hw.ttbr).toBe(hw.topTable);
    t.deinit();
  });
});
