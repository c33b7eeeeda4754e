/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
