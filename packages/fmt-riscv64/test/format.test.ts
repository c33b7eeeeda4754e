/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import { describeFormatProperties, describeGoldenDumpDecode, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { RISCV64_KUNIT_FMT_FEATURES, riscv64, riscv64KunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: riscv64, cfgs: riscv64KunitFmtCfgs, fmtFeatures: RISCV64_KUNIT_FMT_FEATURES });
describeGoldenDumpDecode(path.join(goldenDir, 'riscv64'), goldenFormats(['riscv64', riscv64]));
