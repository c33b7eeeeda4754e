/**
 * The io-pgtable-arm-v7s traces (../golden-iopgtable/armv7s) as a golden
 * format: their config is io_pgtable_cfg's (ias, oas, quirks, page sizes),
 * and init reports the registers a v7s driver programs.
 */
import { featureBits, type AnyPtFormat } from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';
import type { GoldenConfig } from './schema.js';
import type { GoldenFormat } from './session.js';

/** io-pgtable quirk names and the armv7s features of the same meaning. */
const QUIRK_FEATURES: Readonly<Record<string, string>> = {
  ARM_NS: 'ARMV7S_NS',
  ARM_MTK_EXT: 'ARMV7S_MTK_EXT',
  NO_PERMS: 'ARMV7S_NO_PERMS',
};

interface V7sTraceConfig {
  ias: number;
  oas: number;
  quirks: string[];
  pgsizeBitmap: string;
}

interface V7sHwInfo {
  ttbrAttrs: number;
  tcr: number;
  nmrr: number;
  prrr: number;
}

const hex = (v: number): string => `0x${(v >>> 0).toString(16)}`;

/** The golden format that replays io-pgtable-arm-v7s traces with `format` (fmt-armv7s's armv7s). */
export function ioPgtableV7sGoldenFormat(format: AnyPtFormat): GoldenFormat {
  return {
    name: 'armv7s',
    format,
    ioPgtable: true,
    configOf(config: GoldenConfig): GoldenConfig {
      const c = config as unknown as V7sTraceConfig;
      const features = c.quirks.map((q) => {
        const f = QUIRK_FEATURES[q];
        if (f === undefined) throw new Error(`io-pgtable quirk ${q} has no armv7s feature`);
        return f;
      });
      return {
        features,
        featureBits: featureBits(features, format.featureNames),
        hwMaxVaszLg2: c.ias,
        hwMaxOaszLg2: c.oas,
        cfgPgsizeBitmap: Number(c.pgsizeBitmap),
      };
    },
    ioPgtableInitExtra(table: PtIommu): Record<string, unknown> {
      const hw = table.hwInfo() as V7sHwInfo;
      return { ttbrAttrs: hex(hw.ttbrAttrs), tcr: hex(hw.tcr), nmrr: hex(hw.nmrr), prrr: hex(hw.prrr) };
    },
  };
}
