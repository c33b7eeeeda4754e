/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * hardware that walks this format (the RISC-V IOMMU).
 */
import { GENERIC_MODEL, RISCV_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, RISCV_MODEL]);
