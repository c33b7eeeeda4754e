/**
 * @genpt/iommufd-selftest: the iommufd selftest's mock page table format, a
 * model of the iommufd objects the selftest drives, and its scenarios.
 */
export * from './mock-format.js';
