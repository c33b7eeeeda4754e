/** The formats this command knows, by the names the golden traces use. */
import { amdv1 } from '@genpt/fmt-amdv1';
import { armv7s } from '@genpt/fmt-armv7s';
import { armv8, type Armv8Cfg } from '@genpt/fmt-armv8';
import { dart } from '@genpt/fmt-dart';
import { riscv64 } from '@genpt/fmt-riscv64';
import { vtdss } from '@genpt/fmt-vtdss';
import { x86_64 } from '@genpt/fmt-x86-64';
import { iommuMock } from '@genpt/iommufd-selftest';
import { defaultGoldenCfg, goldenFormats, ioPgtableV7sGoldenFormat, type GoldenConfig, type GoldenFormat } from '@genpt/golden';

export const formats: ReadonlyMap<string, GoldenFormat> = goldenFormats(
  ['amdv1', amdv1],
  ['x86_64', x86_64],
  ['vtdss', vtdss],
  ['riscv64', riscv64],
  ['mock', iommuMock],
  ['dart', dart],
  ['armv8', armv8],
  ['armv7s', armv7s],
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

/**
 * The short descriptor's traces all come from io-pgtable-arm-v7s (there is
 * no generic_pt armv7s in Linux 7.0): its config and init in that shape.
 */
const armv7sIoPgtable = ioPgtableV7sGoldenFormat(armv7s);

/** What genpt golden replays: every format, ARMv8 also in the io-pgtable encoding, the short descriptor as io-pgtable traces it. */
export const goldenReplayFormats: ReadonlyMap<string, GoldenFormat> = new Map([
  ...formats,
  [armv8IoPgtable.name, armv8IoPgtable],
  [armv7sIoPgtable.name, armv7sIoPgtable],
]);

/** Every format the golden traces name. */
export const KNOWN_FORMATS = ['amdv1', 'x86_64', 'mock', 'vtdss', 'riscv64', 'armv8', 'dart', 'armv7s'] as const;
