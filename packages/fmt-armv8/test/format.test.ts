/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'armv8'), goldenFormats(['armv8', armv8]));
