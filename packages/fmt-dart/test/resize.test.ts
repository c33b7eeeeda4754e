/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

const kf = { format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
