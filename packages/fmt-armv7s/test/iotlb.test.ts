/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * gather contract alone (GENERIC) and as MediaTek's M4U driver invalidates
 * (a page-granular range flush of the gather).
 */
import { GENERIC_MODEL, MTK_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, MTK_MODEL]);
