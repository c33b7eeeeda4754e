/**
 * The page table format of the iommufd selftest's mock domain
 * (drivers/iommu/generic_pt/fmt/iommu_mock.c): the AMDv1 code compiled a
 * second time with other constants. Its 2 KiB granule is smaller than the
 * CPU page, so the selftest exercises an IOMMU page size that differs from
 * PAGE_SIZE; tables stay 4 KiB with 512 entries.
 */
import { Amdv1Format, type Amdv1Cfg, type Amdv1Variant } from '@genpt/fmt-amdv1';

/** The constants iommu_mock.c builds amdv1.h with (AMDV1_IOMMUFD_SELFTEST, PT_FMT_VARIANT mock). */
export const MOCK_VARIANT: Readonly<Amdv1Variant> = Object.freeze({
  name: 'amdv1_mock',
  granuleLg2sz: 11,
  maxVaAddressLg2: 56,
  maxOutputAddressLg2: 51,
  maxTopLevel: 4,
  // The selftest wants no optional features; a debug build (as kunit and the
  // golden traces use) still allows every one of them.
  supportedFeatures: 0,
  forceEnabledFeatures: 0,
  // A PT_FMT_VARIANT build has no hw_info: nothing programs real hardware with it.
  hasHwInfo: false,
});

/** The mock format; its cfg and table struct are AMDv1's. */
export const iommuMock = new Amdv1Format(MOCK_VARIANT);

export type MockCfg = Amdv1Cfg;

/**
 * The kunit configurations of the mock build: amdv1.h's amdv1_kunit_fmt_cfgs,
 * which the variant shares (zero widths mean the format maximum).
 */
export const mockKunitFmtCfgs: readonly MockCfg[] = [{ features: 0, hwMaxVaszLg2: 0, hwMaxOaszLg2: 0, startingLevel: 2 }];

/** KUNIT_FMT_FEATURES of the mock build: none, every supported feature is on. */
export const MOCK_KUNIT_FMT_FEATURES = 0;
