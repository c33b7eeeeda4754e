/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * hardware that walks this format (VT-d second-stage tables).
 */
import { GENERIC_MODEL, VTD_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

const kf = { format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, VTD_MODEL]);
