/**
 * @genpt/fmt-vtdss: the Intel VT-d second-stage page table format, bit for
 * bit as Linux writes it (drivers/iommu/generic_pt/fmt/vtdss.h).
 */
export * from './bits.js';
export * from './types.js';
export * from './vtdss.js';
export * from './kunit.js';
