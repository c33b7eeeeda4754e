/** Unmap into an OA batch behind the emulated IOTLB, against the reference model. */
import { describeOaBatchSuite } from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES };
describeOaBatchSuite(kf);
