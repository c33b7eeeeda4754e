/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * hardware that walks this format (AMD v2 and VT-d first-stage tables).
 */
import { amdModel, GENERIC_MODEL, VTD_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { X86_64_KUNIT_FMT_FEATURES, x86_64, x86_64KunitFmtCfgs } from '../dist/index.js';

const kf = { format: x86_64, cfgs: x86_64KunitFmtCfgs, fmtFeatures: X86_64_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, amdModel(), VTD_MODEL]);
