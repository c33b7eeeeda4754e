/**
 * Cut, split and collapse on this format: behind the emulated IOTLB and the
 * hitless walker, against the interval model, with every error.
 */
import { describeResizeSuite } from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES };
describeResizeSuite(kf);
