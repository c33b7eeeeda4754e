/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES, dirtyFromMap: true };
describeResizeSuite(kf);
