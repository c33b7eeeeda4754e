import type { PtIommuCfg } from '@genpt/pt-core';

/**
 * struct pt_iommu_riscv_64_cfg: only the common fields. hwMaxVaszLg2 picks
 * the mode: 39 (Sv39, top level 2), 48 (Sv48, 3) or 57 (Sv57, 4).
 */
export type Riscv64Cfg = PtIommuCfg;

/** struct pt_iommu_riscv_64_hw_info: what goes into the device context's fsc/iosatp. */
export interface Riscv64HwInfo {
  /** PPN of the top table (its PA >> 12). */
  ppn: number;
  /** iosatp.MODE: 8 Sv39, 9 Sv48, 10 Sv57 (top level + 6). */
  fscIosatpMode: number;
}
