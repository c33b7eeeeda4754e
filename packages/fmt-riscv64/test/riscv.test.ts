/**
 * What is particular to RISC-V: the exact bits Linux writes (values taken
 * from the kernel's golden dumps), prot to R/W/X, Svnapot 64 KiB leaves,
 * Sv39/48/57 selection, hw_info, and the sign-extended halves.
 */
import {
  bit,
  Errno,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  isPtError,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtRange,
  PtState,
  PtWriteAttrs,
  TableMemory,
  U64Pair,
  u64ToBigInt,
} from '@genpt/pt-core';
import { IommuIotlbGather, PtIommu, dumpTable } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import {
  PT_FEAT_RISCV_SVNAPOT_64K,
  RISCVPT_A,
  RISCVPT_D,
  RISCVPT_R,
  RISCVPT_U,
  RISCVPT_W,
  RISCVPT_X,
  riscv64,
  type Riscv64Cfg,
} from '../dist/index.js';

const NAPOT = bit(PT_FEAT_RISCV_SVNAPOT_64K);
const DRIVER_FEATURES = bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_FLUSH_RANGE) | NAPOT;

/** A scratch level-`level` table with the given features. */
function scratch(level: number, features: number) {
  const common = new PtCommon(riscv64, new TableMemory({ maxBytes: 1 << 16 }));
  common.features = features;
  common.maxOaszLg2 = 56;
  const range = new PtRange(common);
  const pts = new PtState(range).init(range, level, common.mem.alloc(12));
  const item = (i: number) => u64ToBigInt(pts.words[pts.base + 2 * i + 1]!, pts.words[pts.base + 2 * i]!);
  return { common, pts, item };
}

function leaf(level: number, features: number, index: number, oa: bigint, sizeLg2: number, prot: number) {
  const s = scratch(level, features);
  const attrs = new PtWriteAttrs();
  expect(riscv64.iommuSetProt(s.common, attrs, prot)).toBe(0);
  s.pts.index = index;
  riscv64.installLeafEntry(s.pts, Number(oa >> 32n), Number(oa & 0xffffffffn), sizeLg2, attrs);
  return s;
}

function init(cfg: Riscv64Cfg): PtIommu<typeof riscv64> {
  return PtIommu.init(riscv64, cfg);
}

describe('entries as the kernel writes them', () => {
  it('a read/write 4 KiB leaf', () => {
    const { item } = leaf(0, DRIVER_FEATURES, 0, 0x1234400000n, 12, IOMMU_READ | IOMMU_WRITE);
    expect(item(0)).toBe(0x48d1000dfn); // V R W X U A D, PPN 0x1234400
  });

  it('a read-only 1 GiB leaf at level 2', () => {
    const { item, pts } = leaf(2, DRIVER_FEATURES, 4, 0x4000000000n, 30, IOMMU_READ);
    expect(item(4)).toBe(0x100000005bn);
    pts.index = 4;
    expect(riscv64.loadEntryRaw(pts)).toBe(PT_ENTRY_OA);
  });

  it('a read-only Svnapot 64 KiB leaf is 16 identical items with N and PPN[3:0] = 1000b', () => {
    const { item, pts } = leaf(0, DRIVER_FEATURES, 16, 0x1234400000n, 16, IOMMU_READ);
    for (let i = 16; i < 32; i++) expect(item(i)).toBe(0x800000048d10205bn);
    expect(item(15)).toBe(0n);
    expect(item(32)).toBe(0n);
    const oa = new U64Pair();
    pts.index = 27;
    riscv64.loadEntryRaw(pts);
    riscv64.entryOa(pts, oa);
    expect(oa.bigint()).toBe(0x1234400000n);
    expect(riscv64.entryNumContigLg2(pts)).toBe(4);
  });

  it('a 64 KiB OA with PPN bits above 2^32 decodes back exactly', () => {
    const oa = 0xa71445dea0000n;
    const { pts } = leaf(0, DRIVER_FEATURES, 0, oa, 16, IOMMU_WRITE);
    const out = new U64Pair();
    riscv64.entryOa(pts, out);
    expect(out.bigint()).toBe(oa);
  });

  it('a table pointer is V and the PPN only, and round-trips its address', () => {
    const { pts, item } = scratch(3, DRIVER_FEATURES);
    const pa = 0xfffffffff000 * 16; // 2^52 - 2^16: bits above 32 and the top PPN bits
    pts.index = 7;
    riscv64.loadEntryRaw(pts);
    expect(riscv64.installTable(pts, pa, new PtWriteAttrs())).toBe(true);
    expect(item(7)).toBe(((BigInt(pa) >> 12n) << 10n) | 1n);
    expect(riscv64.loadEntryRaw(pts)).toBe(PT_ENTRY_TABLE);
    expect(riscv64.tablePa(pts)).toBe(pa);
    // a second install over a stale entry loses the race
    pts.entryLo = 0;
    pts.entryHi = 0;
    expect(riscv64.installTable(pts, 0x1000, new PtWriteAttrs())).toBe(false);
  });

  it('level 0 items are leaves whatever R/W/X say; above, V alone is a table', () => {
    const { pts, common } = scratch(0, DRIVER_FEATURES);
    pts.words[pts.base] = 1;
    expect(riscv64.loadEntryRaw(pts)).toBe(PT_ENTRY_OA);
    pts.level = 1;
    expect(riscv64.loadEntryRaw(pts)).toBe(PT_ENTRY_TABLE);
    pts.words[pts.base] = 1 | RISCVPT_X;
    expect(riscv64.loadEntryRaw(pts)).toBe(PT_ENTRY_OA);
    pts.words[pts.base] = RISCVPT_R | RISCVPT_W;
    expect(riscv64.loadEntryRaw(pts)).not.toBe(PT_ENTRY_OA);
    common.mem.free(pts.table);
  });
});

describe('prot', () => {
  const bits = (prot: number) => {
    const a = new PtWriteAttrs();
    const ret = riscv64.iommuSetProt(new PtCommon(riscv64, new TableMemory({ maxBytes: 1 << 16 })), a, prot);
    return ret === 0 ? a.descriptorLo : ret;
  };

  it('maps READ, WRITE and NOEXEC onto R, W (with R and D) and X', () => {
    expect(bits(IOMMU_READ)).toBe(RISCVPT_R | RISCVPT_X | RISCVPT_U | RISCVPT_A);
    expect(bits(IOMMU_WRITE)).toBe(RISCVPT_R | RISCVPT_W | RISCVPT_D | RISCVPT_X | RISCVPT_U | RISCVPT_A);
    expect(bits(IOMMU_READ | IOMMU_NOEXEC)).toBe(RISCVPT_R | RISCVPT_U | RISCVPT_A);
  });

  it('refuses a leaf with none of R, W and X (it would read as a table)', () => {
    expect(bits(IOMMU_NOEXEC)).toBe(-Errno.EOPNOTSUPP);
  });
});

describe('init and hw_info', () => {
  it.each([
    [39, 2, 8],
    [48, 3, 9],
    [57, 4, 10],
  ])('Sv%i: top level %i, iosatp mode %i, ppn of the top table', (vasz, top, mode) => {
    const t = init({ features: DRIVER_FEATURES, hwMaxVaszLg2: vasz, hwMaxOaszLg2: 56 });
    expect(t.common.topLevel).toBe(top);
    expect(t.hwInfo()).toEqual({ ppn: t.common.topTable / 4096, fscIosatpMode: mode });
    t.deinit();
  });

  it.each([32, 40, 47, 56])('a %i-bit VA is no RISC-V mode: EINVAL', (vasz) => {
    expect(() => init({ features: DRIVER_FEATURES, hwMaxVaszLg2: vasz, hwMaxOaszLg2: 56 })).toThrow(
      expect.objectContaining({ code: 'EINVAL' }),
    );
  });

  it('clamps the OA width to what the hardware has', () => {
    const t = init({ features: DRIVER_FEATURES, hwMaxVaszLg2: 39, hwMaxOaszLg2: 44 });
    expect(t.common.maxOaszLg2).toBe(44);
    t.deinit();
  });

  it('offers 64 KiB pages only with Svnapot', () => {
    const napot = init({ features: DRIVER_FEATURES, hwMaxVaszLg2: 57, hwMaxOaszLg2: 56 });
    const plain = init({ features: DRIVER_FEATURES & ~NAPOT, hwMaxVaszLg2: 57, hwMaxOaszLg2: 56 });
    expect(napot.getInfo().pgsizeBitmap).toBe(0x1008040211000n);
    expect(plain.getInfo().pgsizeBitmap).toBe(0x1008040201000n);
    napot.deinit();
    plain.deinit();
  });
});

describe('through the IOMMU algorithms', () => {
  it('a 64 KiB map is one Svnapot entry with Svnapot and 16 pages without', () => {
    for (const [features, kinds] of [
      [DRIVER_FEATURES, [16]],
      [DRIVER_FEATURES & ~NAPOT, [12]],
    ] as const) {
      const t = init({ features, hwMaxVaszLg2: 39, hwMaxOaszLg2: 56 });
      t.mapRange(0x10000, 0x8_7654_0000, 0x10000, IOMMU_READ | IOMMU_WRITE);
      expect(t.iovaToPhys(0x1fabc)).toBe(0x8_7654_fabc);
      const l0 = dumpTable(t).tables.find((tb) => tb.level === 0)!;
      expect(l0.entries.map((e) => e.index)).toEqual(Array.from({ length: 16 }, (_, i) => 16 + i));
      expect(new Set(l0.entries.map((e) => e.sizeLg2))).toEqual(new Set(kinds));
      expect(t.unmapRange(0x10000, 0x10000, new IommuIotlbGather())).toBe(0x10000);
      t.deinit();
    }
  });

  it('the upper half is reachable, the hole between the halves is not', () => {
    const t = init({ features: DRIVER_FEATURES, hwMaxVaszLg2: 39, hwMaxOaszLg2: 56 });
    t.mapRange(0xffffffc000000000n, 0x1234400000, 0x1000, IOMMU_READ);
    expect(t.iovaToPhys(0xffffffc000000123n)).toBe(0x1234400123);
    // the upper half starts at the second half of the Sv39 top table
    expect(dumpTable(t).tables[0]!.entries.map((e) => e.index)).toEqual([256]);
    let err: unknown;
    try {
      t.mapRange(0x8000000000, 0, 0x1000, IOMMU_READ);
    } catch (e) {
      err = e;
    }
    expect(isPtError(err, 'ERANGE')).toBe(true);
    t.deinit();
  });
});
