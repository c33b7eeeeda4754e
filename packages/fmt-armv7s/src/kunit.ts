import { bit } from '@genpt/pt-core';
import { PT_FEAT_ARMV7S_MTK_EXT, PT_FEAT_ARMV7S_NO_PERMS, PT_FEAT_ARMV7S_NS, PT_FEAT_ARMV7S_TTBR1 } from './bits.js';
import type { Armv7sCfg } from './types.js';

/**
 * The configurations the kunit suites run the short descriptor with: the
 * development line's armv7s_kunit_fmt_cfgs (plain, NS, TTBR1; 32-bit VA and
 * OA), then MediaTek's 34-bit OA with NO_PERMS as io-pgtable-arm-v7s allows
 * it, with a 34-bit IOVA (a 64 KiB first-level table).
 */
export const armv7sKunitFmtCfgs: readonly Armv7sCfg[] = [
  { features: 0, hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 },
  { features: bit(PT_FEAT_ARMV7S_NS), hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 },
  { features: bit(PT_FEAT_ARMV7S_TTBR1), hwMaxVaszLg2: 32, hwMaxOaszLg2: 32 },
  { features: bit(PT_FEAT_ARMV7S_MTK_EXT) | bit(PT_FEAT_ARMV7S_NO_PERMS), hwMaxVaszLg2: 34, hwMaxOaszLg2: 34 },
];

/** KUNIT_FMT_FEATURES: the cfgs choose these. */
export const ARMV7S_KUNIT_FMT_FEATURES =
  bit(PT_FEAT_ARMV7S_TTBR1) | bit(PT_FEAT_ARMV7S_NS) | bit(PT_FEAT_ARMV7S_MTK_EXT) | bit(PT_FEAT_ARMV7S_NO_PERMS);
