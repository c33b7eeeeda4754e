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
import { ARMV7S_KUNIT_FMT_FEATURES, armv7s, armv7sKunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv7s, cfgs: armv7sKunitFmtCfgs, fmtFeatures: ARMV7S_KUNIT_FMT_FEATURES };
describeIommuPtModel(kf);
describeIommuPtBadInput(kf);
describeIommuPtAllocFailure(kf);
describeCheckedBuild(kf);
describeCallbackReentry(kf);
