/**
 * @genpt/iommu-ops: the IOMMU page table algorithms of Linux's iommu_pt.h
 * over any genpt format — init/deinit, get_info, map (range and pages
 * forms), unmap with gather, iova_to_phys, read_and_clear_dirty, set_dirty
 * and dynamic top growth — plus the iommu core pieces they talk to.
 */
export * from './gather.js';
export * from './domain.js';
export * from './dirty.js';
export * from './oa-batch.js';
export * from './preserve-descriptor.js';
export type { UnmapOptions } from './ops/unmap.js';
export { iommuIotlbSync, makeRange, makeRangeNoCheck, putPagesList } from './helpers.js';
export * from './pt-iommu.js';
export { iommuPtImpl, iommuPtSlot } from './impl.js';
export type { PtOpMethods, PtOpStates, PtOpWalks } from './ops/index.js';
export type { PtTableProblem } from './ops/validate.js';
export { definePtOp, type PtOp } from './op.js';
export { ptTestMutations, setPtTestMutation, type PtTestMutations } from './mutations.js';
export * from './dump.js';
export * from './iommu-core.js';
