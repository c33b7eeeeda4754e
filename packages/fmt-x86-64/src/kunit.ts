import { bit, PT_FEAT_SIGN_EXTEND } from '@genpt/pt-core';
import type { X86_64Cfg } from './types.js';

/** The configurations the kernel's kunit suites run x86_64 with (x86_64_kunit_fmt_cfgs). */
export const x86_64KunitFmtCfgs: readonly X86_64Cfg[] = [
  { features: bit(PT_FEAT_SIGN_EXTEND), hwMaxVaszLg2: 48, hwMaxOaszLg2: 0, topLevel: 3 },
  { features: bit(PT_FEAT_SIGN_EXTEND), hwMaxVaszLg2: 57, hwMaxOaszLg2: 0, topLevel: 4 },
  // AMD IOMMU PASID 0 formats with no SIGN_EXTEND
  { features: 0, hwMaxVaszLg2: 47, hwMaxOaszLg2: 0, topLevel: 3 },
  { features: 0, hwMaxVaszLg2: 56, hwMaxOaszLg2: 0, topLevel: 4 },
];

/** KUNIT_FMT_FEATURES: the cfgs control SIGN_EXTEND; every other supported feature is on. */
export const X86_64_KUNIT_FMT_FEATURES = bit(PT_FEAT_SIGN_EXTEND);
