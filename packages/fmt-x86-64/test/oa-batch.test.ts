/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
