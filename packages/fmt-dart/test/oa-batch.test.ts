/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

const kf = { format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
