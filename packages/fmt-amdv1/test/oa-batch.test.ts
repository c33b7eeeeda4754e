/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

const kf = { format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
