/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
