/** Reclaim of the tables unmaps leave empty, behind the emulated IOTLB, with minimal table pages after every step. */
import { describeReclaimSuite } from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES };
describeReclaimSuite(kf);
