/**
 * @genpt/fmt-riscv64: the RISC-V IOMMU Sv39/Sv48/Sv57 page table format, bit
 * for bit as Linux writes it (drivers/iommu/generic_pt/fmt/riscv.h).
 */
export * from './bits.js';
export * from './types.js';
export * from './riscv64.js';
export * from './kunit.js';
