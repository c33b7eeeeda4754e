/** The formats this command knows, by the names the golden traces use. */
import { amdv1 } from '@genpt/fmt-amdv1';
import { dart } from '@genpt/fmt-dart';
import { riscv64 } from '@genpt/fmt-riscv64';
import { vtdss } from '@genpt/fmt-vtdss';
import { x86_64 } from '@genpt/fmt-x86-64';
import { iommuMock } from '@genpt/iommufd-selftest';
import { goldenFormats, type GoldenFormat } from '@genpt/golden';

export const formats: ReadonlyMap<string, GoldenFormat> = goldenFormats(
  ['amdv1', amdv1],
  ['x86_64', x86_64],
  ['vtdss', vtdss],
  ['riscv64', riscv64],
  ['mock', iommuMock],
  ['dart', dart],
);

/** Every format the golden traces name. */
export const KNOWN_FORMATS = ['amdv1', 'x86_64', 'mock', 'vtdss', 'riscv64', 'armv8', 'dart'] as const;
