/** The formats this command knows, by the names the golden traces use. */
import { amdv1 } from '@genpt/fmt-amdv1';
import { armv8, type Armv8Cfg } from '@genpt/fmt-armv8';
import { dart } from '@genpt/fmt-dart';
import { riscv64 } from '@genpt/fmt-riscv64';
import { vtdss } from '@genpt/fmt-vtdss';
import { x86_64 } from '@genpt/fmt-x86-64';
import { iommuMock } from '@genpt/iommufd-selftest';
import { defaultGoldenCfg, goldenFormats, type GoldenConfig, type GoldenFormat } from '@genpt/golden';

export const formats: ReadonlyMap<string, GoldenFormat> = goldenFormats(
  ['amdv1', amdv1],
  ['x86_64', x86_64],
  ['vtdss', vtdss],
  ['riscv64', riscv64],
  ['mock', iommuMock],
  ['dart', dart],
  ['armv8', armv8],
);

/**
 * ARMv8 written as Linux's io-pgtable-arm writes it (both XN bits, no
 * contiguous hint): the format of ../golden-iopgtable/lpae's traces.
 */
const armv8IoPgtable: GoldenFormat = {
  name: 'armv8-iopgtable',
  format: armv8,
  ioPgtable: true,
  makeCfg(config: GoldenConfig) {
    const cfg: Armv8Cfg = { ...defaultGoldenCfg(config), tgszLg2: config.tgszLg2 ?? 12, ioPgtableEncoding: 1 };
    return cfg;
  },
};

/** What genpt golden replays: every format, and ARMv8 in the io-pgtable encoding. */
export const goldenReplayFormats: ReadonlyMap<string, GoldenFormat> = new Map([...formats, [armv8IoPgtable.name, armv8IoPgtable]]);

/** Every format the golden traces name. */
export const KNOWN_FORMATS = ['amdv1', 'x86_64', 'mock', 'vtdss', 'riscv64', 'armv8', 'dart'] as const;
