import { describeIommuPtSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

describeIommuPtSuite({ format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES });
