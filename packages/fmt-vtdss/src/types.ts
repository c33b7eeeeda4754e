import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_vtdss_cfg */
export interface VtdssCfg extends PtIommuCfg {
  /** 2 (3-level, 39-bit), 3 (4-level, 48-bit) or 4 (5-level, 57-bit). */
  topLevel: number;
}

/** struct pt_iommu_vtdss_hw_info: what goes into the context or PASID table entry. */
export interface VtdssHwInfo {
  /** Second-stage page table pointer: PA of the top table (4 KiB aligned). */
  ssptptr: number;
  /** Adjusted guest address width field: top level − 1 (1 = 3-level, 3 = 5-level). */
  aw: number;
}
