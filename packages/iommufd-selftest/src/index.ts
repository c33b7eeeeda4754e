/**
 * @genpt/iommufd-selftest: the iommufd selftest's mock page table format, a
 * model of the iommufd objects the selftest drives (IOAS, areas, pinned
 * pages, mock domains / HWPTs, accesses, dirty tracking, VFIO compat), and
 * the user memory it maps.
 */
export * from './mock-format.js';
export * from './errors.js';
export * from './uapi.js';
export * as uapiCheck from './uapi-check.js';
export * from './u64.js';
export * from './mm.js';
export * from './pages.js';
export * from './area.js';
export * from './interval.js';
export * from './iopt.js';
export * from './mock-domain.js';
export * from './objects.js';
export * from './ioas.js';
export * from './hwpt.js';
export * from './device.js';
export * from './access.js';
export * from './dirty.js';
export * from './vfio-compat.js';
export * from './dmabuf.js';
export * from './iommufd.js';
