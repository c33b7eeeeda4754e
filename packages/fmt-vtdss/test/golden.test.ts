import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats, loadGoldenTrace, replayTrace, type GoldenStep } from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { vtdss } from '../dist/index.js';

const dir = path.join(goldenDir, 'vtdss');
const formats = goldenFormats(['vtdss', vtdss]);

describeGoldenReplay(dir, formats);

describe('the replayer notices', () => {
  const trace = (name: string) => loadGoldenTrace(path.join(dir, `${name}.json`));

  it('SNP missing from a dumped leaf', () => {
    const t = trace('vtd-48--basic');
    const i = t.steps.findIndex((s) => s.op === 'dump');
    const dump = t.steps[i] as Extract<GoldenStep, { op: 'dump' }>;
    const e = dump.result!.tables.at(-1)!.entries[0]!;
    expect(BigInt(e[1]) & 0x800n).toBe(0x800n);
    e[1] = '0x' + (BigInt(e[1]) ^ 0x800n).toString(16);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('a read-only map that FORCE_WRITEABLE should have refused', () => {
    const t = trace('vtd-57-fw--prot');
    const i = t.steps.findIndex((s) => s.op === 'map' && s.prot === 1);
    const step = t.steps[i] as Extract<GoldenStep, { op: 'map' }>;
    expect(step.result!.err).toBe('EINVAL');
    step.result = { err: 0, mapped: step.len };
    expect(replayTrace(t, formats).mismatch?.step).toBe(i);
  });
});
