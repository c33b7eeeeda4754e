/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * hardware that walks this format (the AMD IOMMU's host tables).
 */
import { amdModel, GENERIC_MODEL, describeIotlbSuite } from '@genpt/kunit-port';
import { AMDV1_KUNIT_FMT_FEATURES, amdv1, amdv1KunitFmtCfgs } from '../dist/index.js';

const kf = { format: amdv1, cfgs: amdv1KunitFmtCfgs, fmtFeatures: AMDV1_KUNIT_FMT_FEATURES };
describeIotlbSuite(kf, [GENERIC_MODEL, amdModel()]);
