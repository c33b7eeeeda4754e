/** The formats this command knows, by the names the golden traces use. */
import { amdv1 } from '@genpt/fmt-amdv1';
import { x86_64 } from '@genpt/fmt-x86-64';
import { goldenFormats, type GoldenFormat } from '@genpt/kunit-port';

export const formats: ReadonlyMap<string, GoldenFormat> = goldenFormats(['amdv1', amdv1], ['x86_64', x86_64]);

/** Formats traces name that no installed package provides yet. */
export const KNOWN_FORMATS = ['amdv1', 'x86_64', 'mock', 'vtdss', 'riscv64'] as const;
