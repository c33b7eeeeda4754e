import { describeGenericPtSuite } from '@genpt/kunit-port';
import { MOCK_KUNIT_FMT_FEATURES, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

describeGenericPtSuite({ format: iommuMock, cfgs: mockKunitFmtCfgs, fmtFeatures: MOCK_KUNIT_FMT_FEATURES });
