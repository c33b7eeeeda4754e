import { bit } from '@genpt/pt-core';
import { PT_FEAT_DART_V2 } from './bits.js';
import type { DartCfg } from './types.js';

/**
 * The configurations the kunit suites run DART with (the development line's
 * dart_kunit_fmt_cfgs): v1 with a 4 KiB granule and a 30-bit VA, v2 with a
 * 16 KiB granule and a 36-bit VA (each a two-level table).
 */
export const dartKunitFmtCfgs: readonly DartCfg[] = [
  { features: 0, hwMaxVaszLg2: 30, hwMaxOaszLg2: 36, pgsizeBitmap: 0x1000 },
  { features: bit(PT_FEAT_DART_V2), hwMaxVaszLg2: 36, hwMaxOaszLg2: 42, pgsizeBitmap: 0x4000 },
];

/** KUNIT_FMT_FEATURES: the cfgs choose DART_V2. */
export const DART_KUNIT_FMT_FEATURES = bit(PT_FEAT_DART_V2);
