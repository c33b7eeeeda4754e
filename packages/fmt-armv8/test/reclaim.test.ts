/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES, dirtyFromMap: true };
describeReclaimSuite(kf);
