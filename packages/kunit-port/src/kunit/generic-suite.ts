/**
 * The kernel's generic format suite (kunit_generic_pt.h, `<fmt>_fmt_test`),
 * test for test under the kernel's names, over a format's kunit configs.
 * A format package calls {@link describeGenericPtSuite} from a vitest file.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_READ,
  IOMMU_WRITE,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtState,
  PtWriteAttrs,
  ffs32,
  ffs64,
  ffz32,
  ffz64,
  fls32,
  fls64,
  log2ModIsZero,
  log2ModLo,
  log2ToMaxInt32,
  ptComputeBestPgsize,
  ptLoadEntry,
  ptLoadSingleEntry,
  ptPgszCount,
  ptSetSwBitRelease,
  ptTableOaLg2sz,
  ptTestSwBitAcquire,
  ptTopRange,
  ptInitTop,
  ptRangeToEndIndex,
  log2SetModBig,
  hiOfBig,
  loOfBig,
  U64_MAX,
  log2ToMaxIntBig,
  pairOutBig,
  u64ToBigInt,
  type PtCommon,
} from '@genpt/pt-core';
import { describe, expect, it, type TestContext } from 'vitest';
import { checkAllLevels } from './check-levels.js';
import { cfgName, KunitPriv, type KunitFormat } from './fixture.js';
import { Rng } from './random.js';

type Case = (priv: KunitPriv, ctx: TestContext, rng: Rng) => void;

function fmtOf(priv: KunitPriv) {
  return priv.common.fmt;
}

function fmtOfPts(pts: PtState) {
  return pts.range.common.fmt;
}

function possibleSizes(pts: PtState): bigint {
  return pairOutBig((out) => fmtOfPts(pts).possibleSizes(pts, out));
}

function isz(pts: PtState): number {
  return pts.range.common.itemLg2sz[pts.level]!;
}

function setProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): void {
  expect(common.fmt.iommuSetProt(common, attrs, prot), 'pt_iommu_set_prot').toBe(0);
}

function install(pts: PtState, oa: bigint, lg2: number, attrs: PtWriteAttrs): void {
  fmtOfPts(pts).installLeafEntry(pts, hiOfBig(oa), loOfBig(oa), lg2, attrs);
}

function assertLoad(pts: PtState, type: number): void {
  ptLoadEntry(pts);
  expect(pts.type).toBe(type);
}

function entryOf(pts: PtState): bigint {
  return u64ToBigInt(pts.entryHi, pts.entryLo);
}

function copyState(pts: PtState): PtState {
  const s = new PtState(pts.range);
  Object.assign(s, pts);
  return s;
}

/* ---- test_init, test_bitops, test_best_pgsize, test_pgsz_count ---- */

const test_init: Case = (priv) => {
  // The fixture did the setup
  expect(priv.pgsizeBitmap).not.toBe(0n);
};

const test_bitops: Case = (_priv, _ctx, rng) => {
  expect(fls32(0)).toBe(0);
  expect(fls32(1)).toBe(1);
  expect(fls32(1 << 2)).toBe(3);
  expect(fls32(-1)).toBe(32);
  expect(fls64(0, 0)).toBe(0);
  expect(fls64(0, 1)).toBe(1);
  expect(fls64(0, 1 << 2)).toBe(3);
  expect(fls64(-1, -1)).toBe(64);
  expect(ffs32(1)).toBe(0);
  expect(ffs32(1 << 2)).toBe(2);
  expect(ffs32(1 << 31)).toBe(31);
  expect(ffs64(0, 1)).toBe(0);
  expect(ffs64(0, 1 << 2)).toBe(2);
  expect(ffs64(1 << 31, 0)).toBe(63);
  for (let i = 0; i !== 31; i++) expect(ffz64(0, ~(-1 << i))).toBe(i);
  for (let i = 0; i !== 63; i++) {
    const v = (1n << BigInt(i)) - 1n;
    expect(ffz64(hiOfBig(v), loOfBig(v))).toBe(i);
  }
  for (let i = 0; i !== 32; i++) {
    const v = rng.u64();
    const h = hiOfBig(v);
    const l = loOfBig(v);
    if (l !== 0) expect(log2ModLo(0, l, ffs32(l))).toBe(0);
    if (v !== 0n) expect(log2ModIsZero(h, l, ffs64(h, l))).toBe(true);
    if (l !== -1) expect(log2ModLo(0, l, ffz32(l)) >>> 0).toBe(log2ToMaxInt32(ffz32(l)));
    if (v !== U64_MAX) {
      const z = ffz64(h, l);
      expect(v & log2ToMaxIntBig(z)).toBe(log2ToMaxIntBig(z));
    }
  }
};

/** ref_best_pgsize(): the constraints pt_compute_best_pgsize() promises, by brute force. */
function refBestPgsize(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  for (let p = 63; p !== 0; p--) {
    const size = 1n << BigInt(p);
    const end = (va + size - 1n) & U64_MAX;
    if (
      bitmap & size &&
      (va & (size - 1n)) === 0n &&
      (oa & (size - 1n)) === 0n &&
      end <= last &&
      va >> BigInt(p) === end >> BigInt(p) &&
      oa >> BigInt(p) === ((oa + size - 1n) & U64_MAX) >> BigInt(p)
    ) {
      return p;
    }
  }
  return 0;
}

function bestPgsize(bitmap: bigint, va: bigint, last: bigint, oa: bigint): number {
  const [bh, bl, vh, vl] = [hiOfBig(bitmap), loOfBig(bitmap), hiOfBig(va), loOfBig(va)];
  return ptComputeBestPgsize(bh, bl, vh, vl, hiOfBig(last), loOfBig(last), hiOfBig(oa), loOfBig(oa));
}

const test_best_pgsize: Case = (_priv, _ctx, rng) => {
  const shl = (v: bigint, n: number) => (v << BigInt(n)) & U64_MAX;
  const setModMax = (v: bigint, n: number) => v | log2ToMaxIntBig(n);
  // Random prefixes with every suffix combination
  for (let a = 1; a !== 10; a++) {
    for (let b = 1; b !== 10; b++) {
      for (let c = 1; c !== 10; c++) {
        const bitmap = rng.u64();
        let va = shl(rng.u64(), a);
        const oa = shl(rng.u64(), b);
        let last = setModMax(rng.u64(), c);
        if (va > last) [va, last] = [last, va];
        expect(bestPgsize(bitmap, va, last, oa)).toBe(refBestPgsize(bitmap, va, last, oa));
      }
    }
  }
  // 0 prefix, every suffix
  for (let c = 1; c !== 63; c++) {
    const bitmap = rng.u64();
    const last = setModMax(0n, c);
    expect(bestPgsize(bitmap, 0n, last, 0n)).toBe(refBestPgsize(bitmap, 0n, last, 0n));
  }
  // 1's prefix, every suffix
  for (let a = 1; a !== 10; a++) {
    for (let b = 1; b !== 10; b++) {
      for (let c = 1; c !== 10; c++) {
        const bitmap = rng.u64();
        const va = shl(U64_MAX, a);
        const oa = shl(U64_MAX, b);
        expect(bestPgsize(bitmap, va, U64_MAX, oa)).toBe(refBestPgsize(bitmap, va, U64_MAX, oa));
      }
    }
  }
  // pgsize_bitmap is always 0
  for (let a = 1; a !== 10; a++) {
    for (let b = 1; b !== 10; b++) {
      for (let c = 1; c !== 10; c++) {
        let va = shl(rng.u64(), a);
        const oa = shl(rng.u64(), b);
        let last = setModMax(rng.u64(), c);
        if (va > last) [va, last] = [last, va];
        expect(bestPgsize(0n, va, last, oa)).toBe(0);
      }
    }
  }
  // over 32 bit page sizes
  for (let a = 32; a !== 42; a++) {
    for (let b = 32; b !== 42; b++) {
      for (let c = 32; c !== 42; c++) {
        const bitmap = rng.u64();
        let va = shl(rng.u64(), a);
        const oa = shl(rng.u64(), b);
        let last = setModMax(rng.u64(), c);
        if (va > last) [va, last] = [last, va];
        expect(bestPgsize(bitmap, va, last, oa)).toBe(refBestPgsize(bitmap, va, last, oa));
      }
    }
  }
};

const test_pgsz_count: Case = () => {
  const SZ_4K = 0x1000;
  const SZ_2M = 0x200000;
  const SZ_1G = 0x40000000;
  expect(ptPgszCount(0, SZ_4K, 0, 0, 0, SZ_1G - 1, 0, 0, 12)).toBe(SZ_1G / SZ_4K);
  expect(ptPgszCount(0, SZ_2M | SZ_4K, 0, SZ_4K, 0, SZ_1G - 1, 0, SZ_4K, 12)).toBe((SZ_2M - SZ_4K) / SZ_4K);
};

/* ---- per-level tests ---- */

/** testOa as a table address: a table pointer may hold fewer address bits than a leaf (ARMv7s: 32 of MediaTek's 35). */
function tablePaOf(priv: KunitPriv): bigint {
  const bits = priv.common.fmt.tablePaLg2;
  return bits === undefined ? priv.testOa : priv.testOa & ((1n << BigInt(bits)) - 1n);
}

const test_table_ptr: Case = (priv) => {
  const paddr = log2SetModBig(tablePaOf(priv), 0n, priv.smallestPgszLg2);
  checkAllLevels(priv, (pts) => {
    if (pts.level === 0) return;
    const fmt = fmtOf(priv);
    const attrs = new PtWriteAttrs();
    setProt(priv.common, attrs, IOMMU_READ);
    ptLoadSingleEntry(pts);
    assertLoad(pts, PT_ENTRY_EMPTY);
    expect(fmt.installTable(pts, Number(paddr), attrs)).toBe(true);
    // A second install passes because install updates the loaded entry.
    expect(fmt.installTable(pts, Number(paddr), attrs)).toBe(true);
    assertLoad(pts, PT_ENTRY_TABLE);
    expect(fmt.tablePa(pts)).toBe(Number(paddr));
    fmt.clearEntries(pts, 0);
    assertLoad(pts, PT_ENTRY_EMPTY);
  });
};

const test_max_va: Case = (priv) => {
  const range = ptTopRange(priv.common);
  expect(priv.common.maxVaszLg2).toBeGreaterThanOrEqual(range.maxVaszLg2);
};

const test_table_radix: Case = (priv) => {
  const fmt = fmtOf(priv);
  let vbits = priv.smallestPgsz - 1n;
  checkAllLevels(priv, (pts) => {
    const tableLg2 = ptTableOaLg2sz(pts);
    const s = isz(pts);
    // Every bit below this level is decoded, and none this level decodes.
    expect(log2ToMaxIntBig(s)).toBe(vbits);
    expect(vbits >> BigInt(s)).toBe(0n);
    // Can't decode past the VA type
    expect(tableLg2).toBeLessThanOrEqual(64);
    expect(fmt.maxVaAddressLg2 >= 64 ? 0 : Math.floor(tableLg2 / 2 ** fmt.maxVaAddressLg2)).toBe(0);
    vbits = log2ToMaxIntBig(tableLg2);
  });
  const range = ptTopRange(priv.common);
  if (range.maxVaszLg2 === 64) {
    expect(vbits).toBe(U64_MAX);
  } else {
    expect(log2ToMaxIntBig(range.maxVaszLg2)).toBe(vbits);
    expect(vbits >> BigInt(range.maxVaszLg2)).toBe(0n);
  }
};

/** Items of this level's table; the top's size comes from the top range (never ask the format). */
function safeNumItemsLg2(pts: PtState): number {
  const top = ptTopRange(pts.range.common);
  const topPts = ptInitTop(top);
  if (pts.level === top.topLevel) return Math.log2(ptRangeToEndIndex(topPts)) | 0;
  return pts.range.common.numItemsLg2[pts.level]!;
}

const test_entry_possible_sizes: Case = (priv) => {
  const fmt = fmtOf(priv);
  checkAllLevels(priv, (pts) => {
    const numItems = safeNumItemsLg2(pts);
    const bitmap = possibleSizes(pts);
    const s = isz(pts);
    if (!fmt.canHaveLeaf(pts)) {
      expect(bitmap).toBe(0n);
      return;
    }
    // No bits for sizes outside this table
    expect(bitmap & log2ToMaxIntBig(s)).toBe(0n);
    expect(numItems + s >= 64 ? 0n : bitmap >> BigInt(numItems + s)).toBe(0n);
    // The single item size must be supported, except where the AMDv1
    // 512 GiB erratum leaves a level with only contiguous sizes.
    if (bitmap !== 0xff0000000000n || fmt.name !== 'amdv1') expect(bitmap & (1n << BigInt(s))).not.toBe(0n);
    else expect(bitmap).not.toBe(0n);
    // A contiguous entry should not span the whole table
    if (numItems + s !== 64) expect(bitmap & (1n << BigInt(numItems + s))).toBe(0n);
  });
};

function sweepAllPgsizes(pts: PtState, attrs: PtWriteAttrs, testOa: bigint): void {
  const fmt = fmtOfPts(pts);
  const bitmap = possibleSizes(pts);
  const s = isz(pts);
  if (pts.index !== 0) return;
  for (let len = 0; len < 63; len++) {
    if (!(bitmap & (1n << BigInt(len)))) continue;
    const oaddr = log2SetModBig(testOa, 0n, len);
    install(pts, oaddr, len, attrs);
    // Every item of a contiguous entry translates correctly
    const sub = copyState(pts);
    for (sub.index = 0; sub.index !== 2 ** (len - s); sub.index++) {
      assertLoad(sub, PT_ENTRY_OA);
      expect(pairOutBig((o) => fmt.itemOa(sub, o))).toBe(oaddr + BigInt(sub.index) * (1n << BigInt(s)));
      expect(pairOutBig((o) => fmt.entryOa(sub, o))).toBe(oaddr);
      expect(fmt.entryNumContigLg2(sub)).toBe(len - s);
    }
    fmt.clearEntries(pts, len - s);
    assertLoad(pts, PT_ENTRY_EMPTY);
  }
}

const test_entry_oa: Case = (priv) => {
  checkAllLevels(priv, (pts) => {
    const maxOa = pts.range.common.maxOaszLg2;
    if (!fmtOf(priv).canHaveLeaf(pts)) return;
    const attrs = new PtWriteAttrs();
    setProt(priv.common, attrs, IOMMU_READ);
    sweepAllPgsizes(pts, attrs, priv.testOa);
    // The table can store the boundary OAs
    sweepAllPgsizes(pts, attrs, 0n);
    sweepAllPgsizes(pts, attrs, maxOa === 64 ? U64_MAX : log2ToMaxIntBig(maxOa));
  });
};

const test_attr_from_entry: Case = (priv) => {
  const fmt = fmtOf(priv);
  checkAllLevels(priv, (pts) => {
    const bitmap = possibleSizes(pts);
    const s = isz(pts);
    if (!fmt.canHaveLeaf(pts)) return;
    for (let len = 0; len < 64; len++) {
      if (!(bitmap & (1n << BigInt(len)))) continue;
      for (let prot = 0; prot <= (IOMMU_READ | IOMMU_WRITE | IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO); prot++) {
        let attrs = new PtWriteAttrs();
        // Formats may refuse a prot combination, but never read+write.
        if (fmt.iommuSetProt(priv.common, attrs, prot)) {
          expect(prot).not.toBe(IOMMU_READ | IOMMU_WRITE);
          continue;
        }
        const oaddr = log2SetModBig(priv.testOa, 0n, len);
        install(pts, oaddr, len, attrs);
        assertLoad(pts, PT_ENTRY_OA);
        const good = entryOf(pts);
        attrs = new PtWriteAttrs();
        fmt.attrFromEntry(pts, attrs);
        fmt.clearEntries(pts, len - s);
        assertLoad(pts, PT_ENTRY_EMPTY);
        install(pts, oaddr, len, attrs);
        assertLoad(pts, PT_ENTRY_OA);
        // The recovered attrs rebuild the identical entry
        expect(entryOf(pts)).toBe(good);
        fmt.clearEntries(pts, len - s);
      }
    }
  });
};

const test_dirty: Case = (priv, ctx) => {
  const fmt = fmtOf(priv);
  if (!fmt.dirtySupported(priv.common)) ctx.skip('Page table features do not support dirty tracking');
  checkAllLevels(priv, (pts) => {
    const bitmap = possibleSizes(pts);
    const s = isz(pts);
    const start = pts.index;
    if (!fmt.canHaveLeaf(pts)) return;
    const attrs = new PtWriteAttrs();
    setProt(priv.common, attrs, IOMMU_READ | IOMMU_WRITE);
    for (let len = 0; len < 64; len++) {
      if (!(bitmap & (1n << BigInt(len)))) continue;
      install(pts, log2SetModBig(priv.testOa, 0n, len), len, attrs);
      assertLoad(pts, PT_ENTRY_OA);
      ptLoadEntry(pts);
      fmt.entryMakeWriteClean(pts);
      ptLoadEntry(pts);
      expect(fmt.entryIsWriteDirty(pts)).toBe(false);
      for (let i = 0; i !== 2 ** (len - s); i++) {
        // dirty every item of the entry
        pts.index = start + i;
        ptLoadEntry(pts);
        expect(fmt.entryMakeWriteDirty(pts)).toBe(true);
        pts.index = start;
        ptLoadEntry(pts);
        expect(fmt.entryIsWriteDirty(pts)).toBe(true);
        fmt.entryMakeWriteClean(pts);
        ptLoadEntry(pts);
        expect(fmt.entryIsWriteDirty(pts)).toBe(false);
      }
      fmt.clearEntries(pts, len - s);
    }
  });
};

function swBitsAllClearThenSet(pts: PtState, maxBit: number): void {
  for (let b = 0; b <= maxBit; b++) expect(ptTestSwBitAcquire(pts, b)).toBe(false);
  for (let b = 0; b <= maxBit; b++) {
    expect(ptTestSwBitAcquire(pts, b)).toBe(false);
    ptSetSwBitRelease(pts, b);
    expect(ptTestSwBitAcquire(pts, b)).toBe(true);
  }
  for (let b = 0; b <= maxBit; b++) expect(ptTestSwBitAcquire(pts, b)).toBe(true);
}

const test_sw_bit_leaf: Case = (priv) => {
  const fmt = fmtOf(priv);
  checkAllLevels(priv, (pts) => {
    const bitmap = possibleSizes(pts);
    const s = isz(pts);
    if (!fmt.canHaveLeaf(pts) || pts.index !== 0) return;
    const attrs = new PtWriteAttrs();
    setProt(priv.common, attrs, IOMMU_READ);
    for (let len = 0; len < 63; len++) {
      if (!(bitmap & (1n << BigInt(len)))) continue;
      const paddr = log2SetModBig(priv.testOa, 0n, len);
      install(pts, paddr, len, attrs);
      swBitsAllClearThenSet(pts, fmt.maxSwBit(priv.common));
      expect(pairOutBig((o) => fmt.itemOa(pts, o))).toBe(paddr);
      // Software bits do not leak into the attrs
      const back = new PtWriteAttrs();
      fmt.attrFromEntry(pts, back);
      expect([back.descriptorHi, back.descriptorLo]).toEqual([attrs.descriptorHi, attrs.descriptorLo]);
      fmt.clearEntries(pts, len - s);
      assertLoad(pts, PT_ENTRY_EMPTY);
    }
  });
};

const test_sw_bit_table: Case = (priv) => {
  const fmt = fmtOf(priv);
  const paddr = log2SetModBig(tablePaOf(priv), 0n, priv.smallestPgszLg2);
  checkAllLevels(priv, (pts) => {
    // (The kernel tests leaf-capable levels here.)
    if (!fmt.canHaveLeaf(pts) || pts.index !== 0) return;
    const attrs = new PtWriteAttrs();
    setProt(priv.common, attrs, IOMMU_READ);
    expect(fmt.installTable(pts, Number(paddr), attrs)).toBe(true);
    swBitsAllClearThenSet(pts, fmt.maxSwBit(priv.common));
    expect(fmt.tablePa(pts)).toBe(Number(paddr));
    fmt.clearEntries(pts, 0);
    assertLoad(pts, PT_ENTRY_EMPTY);
  });
};

/** Every case of kunit_generic_pt.h with the condition under which the kernel builds it. */
export const GENERIC_PT_CASES: ReadonlyArray<{ name: string; run: Case; built?: (k: KunitFormat) => boolean }> = [
  { name: 'test_init', run: test_init },
  { name: 'test_bitops', run: test_bitops },
  { name: 'test_best_pgsize', run: test_best_pgsize },
  { name: 'test_pgsz_count', run: test_pgsz_count },
  { name: 'test_table_ptr', run: test_table_ptr },
  { name: 'test_max_va', run: test_max_va },
  { name: 'test_table_radix', run: test_table_radix },
  { name: 'test_entry_possible_sizes', run: test_entry_possible_sizes },
  { name: 'test_entry_oa', run: test_entry_oa },
  { name: 'test_attr_from_entry', run: test_attr_from_entry },
  // #ifdef pt_entry_is_write_dirty
  { name: 'test_dirty', run: test_dirty, built: (k) => k.format.hasWriteDirty },
  // #ifdef pt_sw_bit
  { name: 'test_sw_bit_leaf', run: test_sw_bit_leaf, built: (k) => k.format.hasSwBits },
  { name: 'test_sw_bit_table', run: test_sw_bit_table, built: (k) => k.format.hasSwBits },
];

export interface SuiteOptions {
  /** Seed for the cases that use random numbers (printed in each test's name on failure). */
  seed?: number;
}

/**
 * Describe `<fmt>_fmt_test`: each case of the kernel's generic suite, for
 * each of the format's kunit configs, with a fresh fixture and deinit per
 * test. Cases the kernel compiles out for this format are not registered;
 * cases the kernel skips at run time are skipped with its message.
 */
export function describeGenericPtSuite(kf: KunitFormat, opts: SuiteOptions = {}): void {
  const seed = opts.seed ?? 0x5eed;
  describe(`${kf.format.name}_fmt_test`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        for (const c of GENERIC_PT_CASES) {
          if (c.built && !c.built(kf)) continue;
          it(c.name, (ctx) => {
            const priv = new KunitPriv(kf, n);
            try {
              c.run(priv, ctx, new Rng(seed));
            } finally {
              priv.table.deinit();
            }
          });
        }
      });
    });
  });
}
