import { describeIommuPtSuite } from '@genpt/kunit-port';
import { MOCK_KUNIT_FMT_FEATURES, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

describeIommuPtSuite({ format: iommuMock, cfgs: mockKunitFmtCfgs, fmtFeatures: MOCK_KUNIT_FMT_FEATURES });
