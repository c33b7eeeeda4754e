/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

const kf = { format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
