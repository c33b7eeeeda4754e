/**
 * The mock format on its own: encode/decode round trips at every level and
 * page size, and the kernel's mock dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { MOCK_KUNIT_FMT_FEATURES, iommuMock, mockKunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: iommuMock, cfgs: mockKunitFmtCfgs, fmtFeatures: MOCK_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'mock'), goldenFormats(['mock', iommuMock]));
