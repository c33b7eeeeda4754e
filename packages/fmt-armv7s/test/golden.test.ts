/**
 * Replays Linux's io-pgtable-arm-v7s traces (the in-repo copy of
 * ../golden-iopgtable/armv7s): every map, unmap, iova_to_phys, TLB callback
 * and dump bit for bit, and shows the replay notices a wrong bit.
 */
import path from 'node:path';
import {
  describeGoldenReplay,
  goldenFormats,
  goldenIoPgtableDir,
  ioPgtableV7sGoldenFormat,
  loadGoldenTrace,
  replayTrace,
  type GoldenStep,
} from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { armv7s } from '../dist/index.js';

const dir = path.join(goldenIoPgtableDir, 'armv7s');
const formats = goldenFormats(ioPgtableV7sGoldenFormat(armv7s));

describeGoldenReplay(dir, formats);

type Dump = Extract<GoldenStep, { op: 'dump' }>;

describe('the replayer notices', () => {
  const trace = (name: string) => loadGoldenTrace(path.join(dir, `${name}.json`));
  /** The first dump of t with an item at (level, index), and that item. */
  const item = (t: ReturnType<typeof trace>, level: number, pred: (raw: number) => boolean) => {
    for (let i = 0; i < t.steps.length; i++) {
      const s = t.steps[i]!;
      if (s.op !== 'dump') continue;
      for (const tb of (s as Dump).result!.tables) {
        if (tb.level !== level) continue;
        const e = tb.entries.find((x) => pred(Number(x[1])));
        if (e) return { i, e };
      }
    }
    throw new Error('no such item');
  };
  const flip = (e: (string | number)[], mask: number) => {
    e[1] = `0x${((Number(e[1]) ^ mask) >>> 0).toString(16)}`;
  };

  it('a table pointer without NS (bit 3) in an ARM_NS table', () => {
    const t = trace('v7s-32-ns--basic');
    const { i, e } = item(t, 1, (v) => (v & 3) === 1);
    expect(Number(e[1]) & 8).toBe(8);
    flip(e, 8);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it("MediaTek's OA bit 32 (item bit 9) missing from a section", () => {
    const t = trace('v7s-mtk-34--basic');
    const { i, e } = item(t, 1, (v) => (v & 3) === 2 && (v & 0x200) !== 0);
    flip(e, 0x200);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('one item of a 16-item large page with a different value', () => {
    const t = trace('v7s-32--each-pgsize');
    const { i, e } = item(t, 0, (v) => (v & 3) === 1);
    flip(e, 0x10000);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('execute-never (bit 0) on a small page mapped without IOMMU_NOEXEC', () => {
    const t = trace('v7s-32--basic');
    const { i, e } = item(t, 0, (v) => (v & 3) === 2);
    flip(e, 1);
    expect(replayTrace(t, formats).mismatch).toMatchObject({ step: i, op: 'dump' });
  });

  it('a tlb_add_page for a page the unmap did not cover', () => {
    const t = trace('v7s-32--each-pgsize');
    const i = t.steps.findIndex((s) => (s.op as string) === 'tlb_add_page');
    const s = t.steps[i] as unknown as { iova: string };
    s.iova = `0x${(Number(s.iova) + 0x40000000).toString(16)}`;
    expect(replayTrace(t, formats).mismatch).toBeDefined();
  });

  it('a translation off by one page', () => {
    const t = trace('v7s-mtk-34--basic');
    const i = t.steps.findIndex((s) => s.op === 'iova_to_phys');
    const s = t.steps[i] as Extract<GoldenStep, { op: 'iova_to_phys' }>;
    s.result = `0x${(BigInt(s.result!) + 0x1000n).toString(16)}`;
    expect(replayTrace(t, formats).mismatch?.step).toBe(i);
  });
});
