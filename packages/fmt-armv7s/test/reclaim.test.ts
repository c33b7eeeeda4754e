/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describeReclaimSuite(kf);
