/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

const kf = { format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES };
describeReclaimSuite(kf);
