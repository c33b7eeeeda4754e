import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_amdv1_cfg */
export interface Amdv1Cfg extends PtIommuCfg {
  /** Top level to start with (1..PT_MAX_TOP_LEVEL); AMD "mode" is this + 1. */
  startingLevel: number;
}

/** struct pt_iommu_amdv1_hw_info: what goes into the Device Table Entry. */
export interface Amdv1HwInfo {
  /** PA of the top table (DTE Host Page Table Root, bits 51:12). */
  hostPtRoot: number;
  /** DTE Mode: the number of levels, top level + 1. */
  mode: number;
}

/** Compile-time constants of an AMDv1 build; the kernel has two (amdv1 and the iommufd mock). */
export interface Amdv1Variant {
  /** PTPFX_RAW: "amdv1", or "amdv1_mock" */
  name: string;
  granuleLg2sz: number;
  maxVaAddressLg2: number;
  maxOutputAddressLg2: number;
  maxTopLevel: number;
  supportedFeatures: number;
  forceEnabledFeatures: number;
  /** Whether pt_iommu_fmt_hw_info exists (not for PT_FMT_VARIANT builds). */
  hasHwInfo: boolean;
}

export interface Amdv1Options {
  /**
   * The SME encryption mask (`sme_me_mask`, the C-bit) applied with
   * ENCRYPT_TABLES. 0 (the default) on machines without SME, as in the
   * golden traces.
   */
  smeMeMask?: bigint;
}
