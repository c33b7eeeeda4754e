import type { Amdv1Cfg } from './types.js';

/**
 * The configurations the kernel's kunit suites run AMDv1 with
 * (amdv1_kunit_fmt_cfgs). Zero widths mean "the format's maximum", as in C.
 */
export const amdv1KunitFmtCfgs: readonly Amdv1Cfg[] = [
  // Matches what io_pgtable did
  { features: 0, hwMaxVaszLg2: 0, hwMaxOaszLg2: 0, startingLevel: 2 },
];

/** KUNIT_FMT_FEATURES: features the cfgs control; every other supported one is turned on. */
export const AMDV1_KUNIT_FMT_FEATURES = 0;
