/**
 * The IOMMU algorithms over the mock format beyond the kernel's suites:
 * random sequences against an interval model, bad input to every op, and
 * allocation failure at every allocation of a map.
 */
import {
  describeCallbackReentry,
  describeCheckedBuild,
  describeIommuPtAllocFailure,
  describeIommuPtBadInput,
  describeIommuPtModel,
} from '@genpt/kunit-port';
import { MOCK_KUNIT_FMT_FEATURES, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

const kf = { format: iommuMock, cfgs: mockKunitFmtCfgs, fmtFeatures: MOCK_KUNIT_FMT_FEATURES };
describeIommuPtModel(kf);
describeIommuPtBadInput(kf);
describeIommuPtAllocFailure(kf);
describeCheckedBuild(kf);
describeCallbackReentry(kf);
