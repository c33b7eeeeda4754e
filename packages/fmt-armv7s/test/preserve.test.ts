/** Preserve and restore (KHO) of a live table, in the same memory and from an image, against the reference model. */
import { describePreserveSuite } from '@genpt/kunit-port';
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describePreserveSuite(kf);
