/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'vtdss'), goldenFormats(['vtdss', vtdss]));
