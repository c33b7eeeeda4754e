/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

const kf = { format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES };
describeReclaimSuite(kf);
