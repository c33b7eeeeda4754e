/**
 * @genpt/fmt-dart: the Apple DART page table format (v1 and v2), bit for bit
 * as the iommupt development line's generic_pt fmt/dart.h writes it.
 */
export * from './bits.js';
export * from './types.js';
export * from './dart.js';
export * from './kunit.js';
