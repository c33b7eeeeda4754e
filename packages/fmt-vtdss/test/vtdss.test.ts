/**
 * What is particular to VT-d second stage, beyond the shared suites: the
 * encoding of each prot, SNP and the read-only erratum, the top levels the cfg
 * accepts, hw_info, the software bits and DMA_INCOHERENT's mark on table
 * pointers.
 */
import {
  bit,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  isPtError,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_FLUSH_RANGE,
  PtCommon,
  PtWriteAttrs,
  TableMemory,
  U64Pair,
} from '@genpt/pt-core';
import { dumpTable, PtIommu, type IommuDevice } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { PT_FEAT_VTDSS_FORCE_COHERENCE, PT_FEAT_VTDSS_FORCE_WRITEABLE, vtdss, type VtdssCfg } from '../dist/index.js';

const RW = IOMMU_READ | IOMMU_WRITE;

function table(cfg: Partial<VtdssCfg> = {}, iommuDevice?: IommuDevice) {
  return PtIommu.init(
    vtdss,
    { features: bit(PT_FEAT_FLUSH_RANGE), hwMaxVaszLg2: 48, hwMaxOaszLg2: 52, topLevel: 3, ...cfg },
    iommuDevice ? { iommuDevice } : {},
  );
}

/** Every stored item of t as [level, index, raw hex, kind]. */
function items(t: PtIommu): Array<[number, number, string, string]> {
  return dumpTable(t).tables.flatMap((tb) =>
    tb.entries.map((e) => [tb.level, e.index, '0x' + e.canonical.toString(16), e.kind] as [number, number, string, string]),
  );
}

function errOf(fn: () => unknown): string | 0 {
  try {
    fn();
    return 0;
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
}

describe('leaves', () => {
  it('carry R, W, SNP and, above level 0, PS; table pointers are R|W', () => {
    const t = table({ features: bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_VTDSS_FORCE_COHERENCE) });
    t.mapRange(0x40000000n, 0x1234400000n, 0x201000n, RW); // 2 MiB then 4 KiB
    t.mapRange(0x80000000n, 0x1240000000n, 0x40000000n, IOMMU_READ); // 1 GiB
    t.mapRange(0xc0000000n, 0x5000n, 0x1000n, IOMMU_WRITE);
    expect(items(t)).toEqual([
      [3, 0, '0x3', 'T'],
      [2, 1, '0x3', 'T'],
      [2, 2, '0x1240000881', 'L'],
      [2, 3, '0x3', 'T'],
      [1, 0, '0x1234400883', 'L'],
      [1, 1, '0x3', 'T'],
      [0, 0, '0x1234600803', 'L'],
      [1, 0, '0x3', 'T'],
      [0, 0, '0x5802', 'L'],
    ]);
    expect(BigInt(t.iovaToPhys(0x40200123n))).toBe(0x1234600123n);
    expect(BigInt(t.iovaToPhys(0xbfffffffn))).toBe(0x127fffffffn);
    t.deinit();
  });

  it('take nothing from CACHE, NOEXEC, MMIO or PRIV', () => {
    const common = new PtCommon(vtdss, new TableMemory());
    const plain = new PtWriteAttrs();
    const extra = new PtWriteAttrs();
    for (const p of [IOMMU_READ, IOMMU_WRITE, RW]) {
      expect(vtdss.iommuSetProt(common, plain, p)).toBe(0);
      expect(vtdss.iommuSetProt(common, extra, p | IOMMU_CACHE | IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV)).toBe(0);
      expect([extra.descriptorHi, extra.descriptorLo]).toEqual([0, p]);
      expect([plain.descriptorHi, plain.descriptorLo]).toEqual([0, p]);
    }
  });

  it('need R or W: without either set_prot fails (an all-zero leaf would read as empty)', () => {
    const common = new PtCommon(vtdss, new TableMemory());
    for (const p of [0, IOMMU_CACHE, IOMMU_NOEXEC | IOMMU_MMIO | IOMMU_PRIV]) {
      expect(vtdss.iommuSetProt(common, new PtWriteAttrs(), p)).toBe(-22);
    }
  });

  it('FORCE_WRITEABLE refuses read-only maps and leaves the table untouched', () => {
    const t = table({ features: bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_VTDSS_FORCE_WRITEABLE) });
    expect(errOf(() => t.mapRange(0x1000, 0x1000, 0x1000, IOMMU_READ))).toBe('EINVAL');
    expect(items(t)).toEqual([]);
    t.mapRange(0x1000, 0x1000, 0x1000, IOMMU_WRITE);
    t.mapRange(0x2000, 0x2000, 0x1000, RW);
    expect(items(t).filter((i) => i[3] === 'L')).toEqual([
      [0, 1, '0x1002', 'L'],
      [0, 2, '0x2003', 'L'],
    ]);
    t.deinit();
  });

  it('FORCE_COHERENCE turned on after creation (as the Intel driver enforces coherency) marks later leaves', () => {
    const t = table();
    t.mapRange(0x1000, 0x7000, 0x1000, RW);
    t.common.features |= bit(PT_FEAT_VTDSS_FORCE_COHERENCE);
    t.mapRange(0x2000, 0x8000, 0x1000, RW);
    expect(items(t).filter((i) => i[3] === 'L')).toEqual([
      [0, 1, '0x7003', 'L'],
      [0, 2, '0x8803', 'L'],
    ]);
    t.deinit();
  });
});

describe('init and hw_info', () => {
  it('top levels 2, 3 and 4 are 3-, 4- and 5-level tables; aw is the top level - 1', () => {
    for (const [topLevel, vasz] of [
      [2, 39],
      [3, 48],
      [4, 57],
    ] as const) {
      const t = table({ topLevel, hwMaxVaszLg2: vasz });
      const info = t.hwInfo();
      expect(info.aw).toBe(topLevel - 1);
      expect(info.ssptptr).toBe(t.common.topTable);
      expect(BigInt(info.ssptptr) & ~vtdss.topPhysMask).toBe(0n);
      expect(BigInt(t.domain.geometry.apertureEnd)).toBe(2n ** BigInt(vasz) - 1n);
      expect(t.getInfo().pgsizeBitmap).toBe(0x40201000n);
      t.deinit();
    }
  });

  it('other top levels are EOPNOTSUPP, non-integers EINVAL', () => {
    for (const topLevel of [0, 1, 5, -1]) expect(errOf(() => table({ topLevel }))).toBe('EOPNOTSUPP');
    for (const topLevel of [2.5, NaN]) expect(errOf(() => table({ topLevel }))).toBe('EINVAL');
  });

  it('a VA wider than the top level spans is refused; a narrower one is the aperture', () => {
    expect(errOf(() => table({ topLevel: 2, hwMaxVaszLg2: 48 }))).toBe('EOPNOTSUPP');
    expect(errOf(() => table({ topLevel: 4, hwMaxVaszLg2: 58 }))).toBe('EINVAL');
    const t = table({ topLevel: 3, hwMaxVaszLg2: 39 });
    expect(BigInt(t.domain.geometry.apertureEnd)).toBe(2n ** 39n - 1n);
    expect(errOf(() => t.mapRange(2 ** 39, 0, 0x1000, RW))).not.toBe(0);
    t.deinit();
  });

  it('features outside FLUSH_RANGE, the two VT-d ones and DMA_INCOHERENT are EOPNOTSUPP', () => {
    const DYNAMIC_TOP = bit(2);
    expect(errOf(() => table({ features: bit(5) }))).toBe('EOPNOTSUPP'); // FLUSH_RANGE_NO_GAPS
    expect(errOf(() => table({ features: DYNAMIC_TOP, hwMaxVaszLg2: 57 }))).toBe('EOPNOTSUPP');
    // ... but init drops DYNAMIC_TOP before checking when the top already spans the VA
    const fixed = table({ features: DYNAMIC_TOP });
    expect(fixed.featureNames()).toEqual([]);
    fixed.deinit();
    const t = table({ features: bit(PT_FEAT_FLUSH_RANGE) | bit(PT_FEAT_VTDSS_FORCE_COHERENCE) | bit(PT_FEAT_VTDSS_FORCE_WRITEABLE) });
    expect(t.featureNames()).toEqual(['FLUSH_RANGE', 'VTDSS_FORCE_COHERENCE', 'VTDSS_FORCE_WRITEABLE']);
    t.deinit();
  });
});

describe('software bits and DMA_INCOHERENT', () => {
  it('SW bits 0..10 are entry bits 10, 52..60 and 63', () => {
    const out = new U64Pair();
    const bits: bigint[] = [];
    for (let b = 0; b <= vtdss.maxSwBit(new PtCommon(vtdss, new TableMemory())); b++) {
      vtdss.swBit(b, out);
      bits.push(out.bigint());
    }
    expect(bits).toEqual([10n, 52n, 53n, 54n, 55n, 56n, 57n, 58n, 59n, 60n, 63n].map((n) => 1n << n));
    expect(() => vtdss.swBit(11, out)).toThrow(RangeError);
  });

  it('an incoherent walker needs a device; table pointers then carry SW bit 0 once flushed', () => {
    expect(errOf(() => table({ features: bit(PT_FEAT_DMA_INCOHERENT) }))).toBe('EINVAL');
    let flushes = 0;
    const dev: IommuDevice = { startIncoherent: () => 0, stopIncoherent: () => {}, flushIncoherent: () => void flushes++ };
    const t = table({ features: bit(PT_FEAT_DMA_INCOHERENT) }, dev);
    t.mapRange(0x1000, 0x9000, 0x1000, RW);
    expect(items(t)).toEqual([
      [3, 0, '0x403', 'T'],
      [2, 0, '0x403', 'T'],
      [1, 0, '0x403', 'T'],
      [0, 1, '0x9003', 'L'],
    ]);
    expect(flushes).toBeGreaterThan(0);
    t.deinit();
  });
});
