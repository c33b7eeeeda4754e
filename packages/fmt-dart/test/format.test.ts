/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { DART_KUNIT_FMT_FEATURES, dart, dartKunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: dart, cfgs: dartKunitFmtCfgs, fmtFeatures: DART_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'dart'), goldenFormats(['dart', dart]));
