/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

const kf = { format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
