/**
 * @genpt/fmt-x86-64: the x86 64-bit page table format (AMD IOMMU v2 tables),
 * bit for bit as Linux writes it (drivers/iommu/generic_pt/fmt/x86_64.h).
 */
export * from './bits.js';
export * from './types.js';
export * from './x86-64.js';
export * from './kunit.js';
