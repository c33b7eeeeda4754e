/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

const kf = { format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES };
describeReclaimSuite(kf);
