/**
 * The format on its own: encode/decode round trips at every level and page
 * size (fast-check), and the golden traces' dumps decoded item by item.
 */
import path from 'node:path';
import {
  decodeGoldenDumps,
  describeFormatProperties,
  findGoldenFiles,
  goldenDir,
  loadGoldenTrace,
} from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { VTDSS_KUNIT_FMT_FEATURES, vtdss, vtdssKunitFmtCfgs } from '../dist/index.js';

describeFormatProperties({ format: vtdss, cfgs: vtdssKunitFmtCfgs, fmtFeatures: VTDSS_KUNIT_FMT_FEATURES });

/*
 * kunit-port's describeGoldenDumpDecode, except for one assertion: it wants
 * every trace with dumps to have dumped items, but under FORCE_WRITEABLE the
 * errors scenario's maps are all read-only and fail, so the kernel dumped an
 * empty top table there. Here each trace must decode exactly the L and T
 * items its dumps hold, whatever their number.
 */
describe('golden dumps decode: vtdss', () => {
  const dir = path.join(goldenDir, 'vtdss');
  const traces = findGoldenFiles(dir)
    .map((f) => [f, loadGoldenTrace(f)] as const)
    .filter(([, t]) => t.format === 'vtdss');
  let leaves = 0;
  it('has traces', () => expect(traces.length).toBeGreaterThan(0));
  for (const [file, trace] of traces) {
    it(path.relative(dir, file), () => {
      const r = decodeGoldenDumps(trace, vtdss);
      expect(r.problems).toEqual([]);
      let dumped = 0;
      for (const s of trace.steps) {
        if (s.op !== 'dump' || !s.result) continue;
        for (const tb of s.result.tables) dumped += tb.entries.filter((e) => e[2] !== 'E').length;
      }
      expect(r.leaves + r.tables).toBe(dumped);
      leaves += r.leaves;
    });
  }
  it('decoded leaves from the dumps', () => {
    expect(leaves).toBeGreaterThan(0);
  });
});
