/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

const kf = { format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
