import { describeIommuPtSuite } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

describeIommuPtSuite({ format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES });
