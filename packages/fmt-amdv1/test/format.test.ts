/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'amdv1'), goldenFormats(['amdv1', amdv1]));
