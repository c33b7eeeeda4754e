/**
 * The IOMMU algorithms over this format beyond the kernel's suites: random
 * sequences against an interval model, every op given bad input, and
 * allocation failure at every allocation of a map.
 */
import {
  describeCallbackReentry,
  describeCheckedBuild,
  describeIommuPtAllocFailure,
  describeIommuPtBadInput,
  describeIommuPtModel,
} from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES };
describeIommuPtModel(kf);
describeIommuPtBadInput(kf);
describeIommuPtAllocFailure(kf);
describeCheckedBuild(kf);
describeCallbackReentry(kf);
