/** Preserve and restore (KHO) of a live table, in the same memory and from an image, against the reference model. */
import { describePreserveSuite } from '@genpt/kunit-port';
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES };
describePreserveSuite(kf);
