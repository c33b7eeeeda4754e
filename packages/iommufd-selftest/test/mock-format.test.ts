/**
 * What makes the mock format the mock: its constants, the table the selftest
 * builds with them, and how a 2 KiB granule lands in AMDv1 entry bits.
 */
import { IOMMU_READ, IOMMU_WRITE, PtError } from '@genpt/pt-core';
import { PtIommu, dumpTable } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { MOCK_VARIANT, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

const selftestCfg = { features: 0, hwMaxVaszLg2: 56, hwMaxOaszLg2: 51, startingLevel: 2 };

describe('amdv1_mock', () => {
  it('has the constants of iommu_mock.c', () => {
    expect(iommuMock.name).toBe('amdv1_mock');
    expect(iommuMock.granuleLg2sz).toBe(11);
    expect(iommuMock.maxVaAddressLg2).toBe(56);
    expect(iommuMock.maxOutputAddressLg2).toBe(51);
    expect(iommuMock.maxTopLevel).toBe(4);
    expect(iommuMock.supportedFeatures).toBe(0);
    expect(MOCK_VARIANT.hasHwInfo).toBe(false);
    expect(mockKunitFmtCfgs).toEqual([{ features: 0, hwMaxVaszLg2: 0, hwMaxOaszLg2: 0, startingLevel: 2 }]);
  });

  it("builds the selftest's table: fixed top level 2 spanning 38 bits, 2 KiB .. 128 GiB pages", () => {
    const t = PtIommu.init(iommuMock, selftestCfg);
    expect(t.common.topLevel).toBe(2);
    expect(t.common.maxVaszLg2).toBe(38);
    expect(t.getInfo().pgsizeBitmap).toBe(0x3ffffff800n);
    expect(t.featureNames()).toEqual([]);
    t.deinit();
  });

  it('has no hw_info', () => {
    const t = PtIommu.init(iommuMock, selftestCfg);
    expect(() => t.hwInfo()).toThrow(PtError);
    t.deinit();
  });

  it('outside a debug build supports no feature (PT_SUPPORTED_FEATURES is 0)', () => {
    // DYNAMIC_TOP reads as off, so the fixed top already spans the VA and init drops the bit.
    const dyn = PtIommu.init(iommuMock, { ...selftestCfg, features: 1 << 2 });
    expect([dyn.common.topLevel, dyn.common.maxVaszLg2, dyn.featureNames()]).toEqual([2, 38, []]);
    dyn.deinit();
    // FLUSH_RANGE is simply unsupported.
    expect(() => PtIommu.init(iommuMock, { ...selftestCfg, features: 1 << 4 })).toThrow(expect.objectContaining({ code: 'EOPNOTSUPP' }));
  });

  it('puts OA bit 11 in entry bit 12: a 4 KiB page is a two-item contiguous entry', () => {
    const t = PtIommu.init(iommuMock, selftestCfg);
    t.mapRange(0x3000, 0x10001000, 0x1000, IOMMU_READ);
    t.mapRange(0x800, 0x10000800, 0x800, IOMMU_READ | IOMMU_WRITE);
    const leaf = dumpTable(t).tables.at(-1)!;
    expect(leaf.entries.map((e) => [e.index, e.canonical])).toEqual([
      [1, 0x6000000020001001n], // 2 KiB, Next Level 0, OA 0x10000800 >> 11 at bit 12
      [6, 0x2000000020002e01n], // the 4 KiB page: both items, Next Level 7
      [7, 0x2000000020002e01n],
    ]);
    expect(t.iovaToPhys(0x3fff)).toBe(0x10001fff);
    t.deinit();
  });
});
