/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'x86_64'), goldenFormats(['x86_64', x86_64]));
