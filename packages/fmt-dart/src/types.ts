import type { PtIommuCfg } from '@genpt/pt-core';

/** struct pt_iommu_dart_cfg */
export interface DartCfg extends PtIommuCfg {
  /**
   * The page sizes the DART uses: its lowest set bit (4 KiB or 16 KiB; v2
   * ignores anything below 16 KiB) is the granule, the size of a page and
   * of every table.
   */
  pgsizeBitmap: number;
}

/** What the DART driver programs for a stream. */
export interface DartHwInfo {
  /** The granule: 12 (4 KiB) or 14 (16 KiB). */
  granuleLg2sz: number;
  /**
   * The TTBR values: with a top at level 1 one TTBR, the top table itself;
   * with a top at level 2 the top table's items are the TTBRs (its table
   * pointers, 0 where none is installed yet), `ttbrCount` of them.
   */
  ttbrCount: number;
  /** PA of the top table. */
  topTable: number;
  topLevel: number;
}
