import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_armv7s_cfg, with io-pgtable-arm-v7s's page-size choice. */
export interface Armv7sCfg extends PtIommuCfg {
  /**
   * The page sizes the driver offers (io_pgtable_cfg.pgsize_bitmap): the
   * table uses those of 4 KiB, 64 KiB, 1 MiB and 16 MiB it holds. Default:
   * all four. Linux only uses supersections when 16 MiB is in it.
   */
  pgsizeBitmap?: number;
}

/** What a driver programs for an ARMv7 short-descriptor table (io_pgtable_cfg.arm_v7s_cfg). */
export interface Armv7sHwInfo {
  /** TTBR: the top table's PA with the walk attributes (or, with MTK_EXT, its bits 34:32). */
  ttbr: number;
  /** The attribute part of ttbr (ttbr minus the top table's PA). */
  ttbrAttrs: number;
  /** TTBCR: N = 0, EAE = 0. */
  tcr: number;
  /** PRRR and NMRR for the TEX remap the descriptors assume. */
  prrr: number;
  nmrr: number;
  /** The table is for TTBR1 (PT_FEAT_ARMV7S_TTBR1). */
  ttbr1: boolean;
  /** PA and level of the top table. */
  topTable: number;
  topLevel: number;
}
