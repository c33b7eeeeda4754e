import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats, loadGoldenTrace, replayTrace, type GoldenStep } from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { dart } from '../dist/index.js';

const dir = path.join(goldenDir, 'dart');
const formats = goldenFormats(['dart', dart]);

describeGoldenReplay(dir, formats);

describe('the replayer notices', () => {
  const trace = (name: string) => loadGoldenTrace(path.join(dir, `${name}.json`));
  const firstLeaf = (t: ReturnType<typeof trace>) => {
    const i = t.steps.findIndex((s) => s.op === 'dump');
    const dump = t.steps[i] as Extract<GoldenStep, { op: 'dump' }>;
    return { i, e: dump.result!.tables.at(-1)!.entries[0]! };
  };

  it('a leaf without its whole-page sub-page range (v1)', () => {
    const t = trace('v1-4k--basic');
    const { i, e } = firstLeaf(t);
    expect(BigInt(e[1]) & 0xfff0000000000n).toBe(0xfff0000000000n);
    e[1] = '0x' + (BigInt(e[1]) ^ 0xfff0000000000n).toString(16);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('v2 NO_CACHE missing from a leaf mapped without IOMMU_CACHE', () => {
    const t = trace('v2-16k--basic');
    const { i, e } = firstLeaf(t);
    expect(BigInt(e[1]) & 2n).toBe(2n);
    e[1] = '0x' + (BigInt(e[1]) ^ 2n).toString(16);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('a v2 address shifted as v1 would store it', () => {
    const t = trace('v2-16k--basic');
    const i = t.steps.findIndex((s) => s.op === 'iova_to_phys');
    const step = t.steps[i] as Extract<GoldenStep, { op: 'iova_to_phys' }>;
    step.result = '0x' + (BigInt(step.result!) >> 2n).toString(16);
    expect(replayTrace(t, formats).mismatch?.step).toBe(i);
  });
});
