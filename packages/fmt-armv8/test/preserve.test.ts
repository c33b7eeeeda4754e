/** Preserve and restore (KHO) of a live table, in the same memory and from an image, against the reference model. */
import { describePreserveSuite } from '@genpt/kunit-port';
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES, dirtyFromMap: true };
describePreserveSuite(kf);
