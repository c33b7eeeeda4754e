import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats, loadGoldenTrace, replayTrace, type GoldenStep } from '@genpt/kunit-port';
import { IommuDirtyBitmap, IovaRangeRecorder, PtIommu, PtSpinLock } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { amdv1 } from '../dist/index.js';

const dir = path.join(goldenDir, 'amdv1');
const formats = goldenFormats(['amdv1', amdv1]);

describeGoldenReplay(dir, formats);

describe('the replayer notices', () => {
  const trace = (name: string) => loadGoldenTrace(path.join(dir, `${name}.json`));

  it('a changed bit in a dump', () => {
    const t = trace('host-l6--basic');
    const i = t.steps.findIndex((s) => s.op === 'dump');
    const dump = t.steps[i] as Extract<GoldenStep, { op: 'dump' }>;
    const e = dump.result!.tables.at(-1)!.entries[0]!;
    e[1] = '0x' + (BigInt(e[1]) ^ 0x40n).toString(16);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('a missing change_top', () => {
    const t = trace('host-l6--top-growth');
    const i = t.steps.findIndex((s) => s.op === 'change_top');
    t.steps.splice(i, 1);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, expected: [] });
  });

  it('a different map result', () => {
    const t = trace('fixed5--errors');
    const i = t.steps.findIndex((s) => s.op === 'map' && s.result?.err === 'ENXIO' && s.result.mapped !== '0x0');
    (t.steps[i] as Extract<GoldenStep, { op: 'map' }>).result!.mapped = '0x0';
    expect(replayTrace(t, formats).mismatch?.step).toBe(i);
  });
});

describe('dirty length of contiguous entries', () => {
  function dirtyReport(wholeContig: boolean): unknown {
    const lock = new PtSpinLock();
    const t = PtIommu.init(
      amdv1,
      { features: amdv1.forceEnabledFeatures, hwMaxVaszLg2: 64, hwMaxOaszLg2: 52, startingLevel: 2 },
      { driverOps: { changeTop: () => {}, getTopLock: () => lock }, dirtyWholeContig: wholeContig },
    );
    t.mapRange(0x40000000, 0x80000000, 0x40000, 3); // one 64-item 256 KiB entry
    t.setDirty(0x4003f000); // its last item
    const rec = new IovaRangeRecorder();
    t.readAndClearDirty(0x40000000, 0x100000, 0, new IommuDirtyBitmap(rec));
    return rec.ranges;
  }

  it('is one item short by default, as Linux 7.0 reports it', () => {
    expect(dirtyReport(false)).toEqual([[0x40000000, 0x3f000]]);
  });

  it('is the whole entry with dirtyWholeContig', () => {
    expect(dirtyReport(true)).toEqual([[0x40000000, 0x40000]]);
  });
});
