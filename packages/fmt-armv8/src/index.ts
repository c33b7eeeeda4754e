/**
 * @genpt/fmt-armv8: the ARMv8 VMSAv8-64 page table format (SMMUv3 stage 1
 * and stage 2; 4, 16 and 64 KiB granules), bit for bit as the iommupt
 * development line's generic_pt fmt/armv8.h writes it.
 */
export * from './bits.js';
export * from './types.js';
export * from './armv8.js';
export * from './kunit.js';
