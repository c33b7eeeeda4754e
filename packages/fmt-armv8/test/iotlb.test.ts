/**
 * The invalidation oracle: every op behind an emulated IOTLB, under the
 * gather contract alone (GENERIC) and as the Linux SMMUv3 driver
 * invalidates (range TLBI commands with the table's granule).
 */
import { GENERIC_MODEL, describeIotlbSuite, smmuv3Model } from '@genpt/kunit-port';
import { ARMV8_KUNIT_FMT_FEATURES, armv8, armv8KunitFmtCfgs } from '../dist/index.js';

const kf = { format: armv8, cfgs: armv8KunitFmtCfgs, fmtFeatures: ARMV8_KUNIT_FMT_FEATURES, dirtyFromMap: true };
// The SMMUv3 model's granule must be the table's: one run per granule.
describeIotlbSuite({ ...kf, cfgs: kf.cfgs.filter((c) => c.tgszLg2 === 12) }, [GENERIC_MODEL, smmuv3Model({ granuleLg2: 12 })]);
describeIotlbSuite({ ...kf, cfgs: kf.cfgs.filter((c) => c.tgszLg2 === 14) }, [GENERIC_MODEL, smmuv3Model({ granuleLg2: 14 })]);
describeIotlbSuite({ ...kf, cfgs: kf.cfgs.filter((c) => c.tgszLg2 === 16) }, [GENERIC_MODEL, smmuv3Model({ granuleLg2: 16 })]);
