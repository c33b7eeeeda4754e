/**
 * @genpt/fmt-armv7s: the ARMv7 short-descriptor page table format, bit for
 * bit as Linux's io-pgtable-arm-v7s writes it, on the generic page table core.
 */
export * from './bits.js';
export * from './types.js';
export * from './armv7s.js';
export * from './kunit.js';
