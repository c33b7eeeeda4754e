/**
 * @genpt/kunit-port: the Linux kernel's generic_pt kunit suites as functions
 * a format package calls from its own vitest files, and vitest suites over
 * the golden traces. The traces and their replayer are @genpt/golden (also
 * re-exported here).
 */
export * from '@genpt/golden';
export * from './golden/describe.js';
export * from './kunit/fixture.js';
export * from './kunit/random.js';
export { checkAllLevels, doMap } from './kunit/check-levels.js';
export { checkIova, countValids, countValidsPerSize, countValidsSingle, doUnmap } from './kunit/count.js';
export { describeGenericPtSuite, GENERIC_PT_CASES, type SuiteOptions } from './kunit/generic-suite.js';
export { describeIommuPtSuite, IOMMU_PT_CASES } from './kunit/iommu-suite.js';
export { describeFormatProperties, type PropertyOptions } from './kunit/properties.js';
export { describeBulkOpProperties } from './kunit/bulk-properties.js';
export { describeIommuPtModel, type ModelOptions } from './suites/model.js';
export { describeIommuPtBadInput } from './suites/bad-input.js';
export { describeIommuPtAllocFailure } from './suites/alloc-failure.js';
export { describeCheckedBuild } from './suites/checked.js';
export { describeCallbackReentry } from './suites/reentry.js';
export { describeIotlbSuite, type IotlbSuiteOptions } from './iotlb/suite.js';
export { IotlbHarness, IotlbViolation } from './iotlb/harness.js';
export { EmulatedIotlb, describeStale, type IotlbErase, type IotlbKind, type IotlbStale } from './iotlb/iotlb.js';
export {
  amdModel,
  DART_MODEL,
  GENERIC_MODEL,
  GENERIC_STRICT_MODEL,
  INVALIDATION_MODELS,
  MTK_MODEL,
  RISCV_MODEL,
  smmuv3Model,
  smmuv3RangeCommands,
  VTD_MODEL,
  type InvalidationModel,
  type Smmuv3RangeCmd,
  type IotlbGatherView,
  type IotlbModelContext,
} from './iotlb/models.js';
export { readSnapshot, type SizedEntries, type TableSnapshot } from './iotlb/snapshot.js';
export { describeResizeSuite, type ResizeSuiteOptions } from './resize/suite.js';
export { HitlessViolation, HitlessWatch, probesFor } from './resize/hitless.js';
export { RefWalker, type RefTranslation } from './resize/ref-walker.js';
export { bestLeaves, leafAt, leafPathTables, tableLeaves, tablePages, type Leaf } from './resize/leaves.js';
export { describeReclaimSuite, minimalTablePages, type ReclaimSuiteOptions } from './reclaim/suite.js';
export { describeOaBatchSuite, type OaBatchSuiteOptions } from './oa-batch/suite.js';
export { describePreserveSuite, type PreserveSuiteOptions } from './preserve/suite.js';
