import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_x86_64_cfg */
export interface X86_64Cfg extends PtIommuCfg {
  /** 3 for 4-level paging, 4 for 5-level. */
  topLevel: number;
}

/** struct pt_iommu_x86_64_hw_info: what goes into the GCR3 table entry. */
export interface X86_64HwInfo {
  /** PA of the top table. */
  gcr3Pt: number;
  /** Number of levels: top level + 1. */
  levels: number;
}

export interface X86_64Options {
  /** The SME C-bit (`sme_me_mask`) used with AMD_ENCRYPT_TABLES; 0 by default. */
  smeMeMask?: bigint;
}
