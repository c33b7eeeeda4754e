/** Preserve and restore (KHO) of a live table, in the same memory and from an image, against the reference model. */
import { describePreserveSuite } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

const kf = { format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES };
describePreserveSuite(kf);
