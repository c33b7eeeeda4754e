import { bit, PT_FEAT_DYNAMIC_TOP } from '@genpt/pt-core';
import {
  PT_FEAT_ARMV8_DBM,
  PT_FEAT_ARMV8_LPA,
  PT_FEAT_ARMV8_LPA2,
  PT_FEAT_ARMV8_LVA,
  PT_FEAT_ARMV8_S2,
  PT_FEAT_ARMV8_S2FWB,
  PT_FEAT_ARMV8_TTBR1,
} from './bits.js';
import type { Armv8Cfg } from './types.js';

const cfg = (tgszLg2: number, feature: number, width = 48): Armv8Cfg => ({
  features: bit(feature),
  hwMaxVaszLg2: width,
  hwMaxOaszLg2: width,
  tgszLg2,
});

/**
 * The configurations the kunit suites run ARMv8 with (the development
 * line's armv8_kunit_fmt_cfgs): each granule at stage 1 with DBM, at stage
 * 2, and at stage 1 on TTBR1, all 48-bit; then stage 2 with concatenated
 * top tables at smaller IPA sizes (4 KiB 40 and 42 bits, 16 KiB 40 bits;
 * 16 KiB at 48 bits concatenates two tables too, as R_DXBSH requires).
 */
export const armv8KunitFmtCfgs: readonly Armv8Cfg[] = [
  cfg(12, PT_FEAT_ARMV8_DBM),
  cfg(12, PT_FEAT_ARMV8_S2),
  cfg(12, PT_FEAT_ARMV8_TTBR1),
  cfg(14, PT_FEAT_ARMV8_DBM),
  cfg(14, PT_FEAT_ARMV8_S2),
  cfg(14, PT_FEAT_ARMV8_TTBR1),
  cfg(16, PT_FEAT_ARMV8_DBM),
  cfg(16, PT_FEAT_ARMV8_S2),
  cfg(16, PT_FEAT_ARMV8_TTBR1),
  cfg(12, PT_FEAT_ARMV8_S2, 40),
  cfg(12, PT_FEAT_ARMV8_S2, 42),
  cfg(14, PT_FEAT_ARMV8_S2, 40),
];

/** KUNIT_FMT_FEATURES: the cfgs control these; every other supported feature is on. */
export const ARMV8_KUNIT_FMT_FEATURES =
  bit(PT_FEAT_ARMV8_TTBR1) |
  bit(PT_FEAT_ARMV8_S2) |
  bit(PT_FEAT_ARMV8_DBM) |
  bit(PT_FEAT_ARMV8_S2FWB) |
  bit(PT_FEAT_DYNAMIC_TOP) |
  bit(PT_FEAT_ARMV8_LPA) |
  bit(PT_FEAT_ARMV8_LPA2) |
  bit(PT_FEAT_ARMV8_LVA);
