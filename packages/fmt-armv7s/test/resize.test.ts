/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
