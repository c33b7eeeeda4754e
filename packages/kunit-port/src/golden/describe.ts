import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeGoldenDumps, findGoldenFiles, loadGoldenTrace, replayTrace, type GoldenFormat } from '@genpt/golden';

/**
 * A vitest test per golden trace under `dir` whose format is in `formats`:
 * each replays the whole trace and fails with the step, expected and actual
 * of the first difference.
 */
export function describeGoldenReplay(dir: string, formats: ReadonlyMap<string, GoldenFormat>): void {
  const files = findGoldenFiles(dir).filter((f) => formats.has(loadGoldenTrace(f).format));
  describe(`golden replay: ${path.basename(dir)}`, () => {
    it('has traces for the formats given', () => {
      expect(files.length).toBeGreaterThan(0);
    });
    for (const file of files) {
      it(path.relative(dir, file), () => {
        const out = replayTrace(loadGoldenTrace(file), formats);
        if (out.mismatch) {
          const m = out.mismatch;
          expect.soft(m.actual, `step ${m.step} (${m.op})`).toEqual(m.expected);
        }
        expect(out.status).toBe('passed');
      });
    }
  });
}

/**
 * A vitest test per golden trace under `dir` of a format in `formats`: decode
 * every dumped item with the format alone (see decodeGoldenDumps).
 */
export function describeGoldenDumpDecode(dir: string, formats: ReadonlyMap<string, GoldenFormat>): void {
  const traces = findGoldenFiles(dir)
    .map((f) => [f, loadGoldenTrace(f)] as const)
    .filter(([, t]) => formats.has(t.format));
  describe(`golden dumps decode: ${path.basename(dir)}`, () => {
    let leaves = 0;
    for (const [file, trace] of traces) {
      it(path.relative(dir, file), () => {
        const r = decodeGoldenDumps(trace, formats.get(trace.format)!.format);
        expect(r.problems).toEqual([]);
        // Every L and T item of every dump was decoded (a dump may hold none:
        // a trace whose maps were all refused dumps an empty top table).
        let items = 0;
        for (const step of trace.steps) {
          if (step.op !== 'dump' || !step.result) continue;
          for (const table of step.result.tables) for (const e of table.entries) if (e[2] !== 'E') items++;
        }
        expect(r.leaves + r.tables).toBe(items);
        leaves += r.leaves;
      });
    }
    it('decoded leaves from the dumps', () => {
      expect(leaves).toBeGreaterThan(0);
    });
  });
}
