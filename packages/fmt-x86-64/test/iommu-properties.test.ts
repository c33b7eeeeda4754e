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
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES };
describeIommuPtModel(kf);
describeIommuPtBadInput(kf);
describeIommuPtAllocFailure(kf);
describeCheckedBuild(kf);
describeCallbackReentry(kf);
