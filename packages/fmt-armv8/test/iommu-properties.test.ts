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
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES, dirtyFromMap: true };
describeIommuPtModel(kf);
describeIommuPtBadInput(kf);
describeIommuPtAllocFailure(kf);
describeCheckedBuild(kf);
describeCallbackReentry(kf);
