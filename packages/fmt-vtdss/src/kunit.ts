import { bit } from '@genpt/pt-core';
import { PT_FEAT_VTDSS_FORCE_WRITEABLE } from './bits.js';
import type { VtdssCfg } from './types.js';

/**
 * The configurations the kernel's kunit suites run VT-d second stage with
 * (vtdss_kunit_fmt_cfgs): 3-, 4- and 5-level tables. A zero OA width means
 * "the format's maximum", as in C.
 */
export const vtdssKunitFmtCfgs: readonly VtdssCfg[] = [
  { features: 0, hwMaxVaszLg2: 39, hwMaxOaszLg2: 0, topLevel: 2 },
  { features: 0, hwMaxVaszLg2: 48, hwMaxOaszLg2: 0, topLevel: 3 },
  { features: 0, hwMaxVaszLg2: 57, hwMaxOaszLg2: 0, topLevel: 4 },
];

/**
 * KUNIT_FMT_FEATURES: the cfgs control FORCE_WRITEABLE (left off, so the
 * read-only cases run); every other supported feature is turned on.
 */
export const VTDSS_KUNIT_FMT_FEATURES = bit(PT_FEAT_VTDSS_FORCE_WRITEABLE);
