import { bit } from '@genpt/pt-core';
import { PT_FEAT_RISCV_SVNAPOT_64K } from './bits.js';
import type { Riscv64Cfg } from './types.js';

/** The configurations the kernel's kunit suites run riscv_64 with (riscv_64_kunit_fmt_cfgs). */
export const riscv64KunitFmtCfgs: readonly Riscv64Cfg[] = [
  { features: bit(PT_FEAT_RISCV_SVNAPOT_64K), hwMaxVaszLg2: 39, hwMaxOaszLg2: 56 },
  { features: 0, hwMaxVaszLg2: 48, hwMaxOaszLg2: 56 },
  { features: bit(PT_FEAT_RISCV_SVNAPOT_64K), hwMaxVaszLg2: 57, hwMaxOaszLg2: 56 },
];

/** KUNIT_FMT_FEATURES: the cfgs control Svnapot; every other supported feature (SIGN_EXTEND too) is on. */
export const RISCV64_KUNIT_FMT_FEATURES = bit(PT_FEAT_RISCV_SVNAPOT_64K);
