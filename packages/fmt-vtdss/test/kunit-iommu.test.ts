import { describeIommuPtSuite } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

describeIommuPtSuite({ format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES });
