/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * gather contract alone (GENERIC) and as the Apple DART driver flushes (the
 * whole stream on every sync).
 */
import { DART_MODEL, GENERIC_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

const kf = { format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, DART_MODEL]);
