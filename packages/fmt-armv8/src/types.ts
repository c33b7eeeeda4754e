import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_armv8_cfg */
export interface Armv8Cfg extends PtIommuCfg {
  /** The translation granule: 12 (4 KiB), 14 (16 KiB) or 16 (64 KiB). */
  tgszLg2: number;
  /**
   * Write leaves as Linux's io-pgtable-arm does today instead of as the
   * iommupt header does: IOMMU_NOEXEC sets both XN bits (53 and 54, not
   * only 54), and no contiguous hint (the contiguous sizes leave the page
   * size bitmap). Off by default (what the golden traces record).
   */
  ioPgtableEncoding?: number;
}

/** struct pt_iommu_armv8_hw_info: what an SMMUv3 context descriptor or stream table entry needs. */
export interface Armv8HwInfo {
  /** Translation table base (TTB0/TTB1 or S2TTB): the top table's PA. */
  ttb: number;
  /** T0SZ/T1SZ/S2T0SZ: 64 - the VA (IPA) width. */
  tsz: number;
  /** TG0/TG1/S2TG encoding of the granule (TG1 encodes differently). */
  tg: number;
  /** IPS/S2PS encoding of the OA width. */
  ps: number;
  /** DS: 1 with LPA2. */
  ds: number;
  /** Table walk attributes: shareability and inner/outer cacheability. */
  sh: number;
  irgn: number;
  orgn: number;
  /** ENDI: 0 (little endian). */
  endi: number;
  /** Stage 1: TBI, which of EPD0/EPD1 disables the unused half, and the MAIR the AttrIndx values index. */
  s1?: { tbix: number; epd0: number; epd1: number; mair: number };
  /** Stage 2: S2SL0 (and S2SL2 for a 4 KiB LPA2 level -1 top), the starting level. */
  s2?: { sl0: number; sl2: number };
}
