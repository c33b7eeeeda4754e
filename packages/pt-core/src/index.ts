/**
 * @genpt/pt-core: the Generic Page Table language and machinery (Linux
 * include/linux/generic_pt and drivers/iommu/generic_pt/pt_*.h), with no
 * format in it.
 */
export * from './errno.js';
export * from './arg.js';
export { PtCheckError, ptCheckFailed } from './check.js';
export * from './u64.js';
export * from './u64-big.js';
export * from './interval-map.js';
export * from './log2.js';
export * from './features.js';
export * from './entry-type.js';
export * from './attrs.js';
export * from './format.js';
export * from './fmt-defaults.js';
export * from './entry-write.js';
export * from './table-memory.js';
export * from './table-pointer.js';
export * from './common.js';
export * from './range.js';
export * from './state.js';
export * from './entry.js';
export * from './walk.js';
export { ptComputeBestPgsize, ptDefaultPgszLg2ToLevel, ptPgszCount } from './pgsize.js';
