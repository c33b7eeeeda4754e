import { describeIommuPtSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

describeIommuPtSuite({ format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES });
