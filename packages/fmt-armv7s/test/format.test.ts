/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check). The io-pgtable traces' dumps are checked bit for bit by
 * the replay (golden.test.ts).
 */
import { describeFormatProperties } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES });
