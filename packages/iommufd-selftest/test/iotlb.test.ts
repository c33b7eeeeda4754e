/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * hardware that walks this format (the mock IOMMU: the exact-range model).
 */
import { GENERIC_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { MOCK_KUNIT_FMT_FEATURES, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

const kf = { format: iommuMock, cfgs: mockKunitFmtCfgs, fmtFeatures: MOCK_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL]);
