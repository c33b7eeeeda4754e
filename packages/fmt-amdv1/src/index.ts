/**
 * @genpt/fmt-amdv1: the AMD IOMMU v1 page table format, bit for bit as Linux
 * writes it (drivers/iommu/generic_pt/fmt/amdv1.h).
 */
export * from './bits.js';
export * from './types.js';
export * from './amdv1.js';
export * from './kunit.js';
