/**
 * The CLI's script path given hostile JSON (fast-check): any script either
 * runs, each step's errno a result, or is refused with a CliError naming the
 * problem; nothing else escapes, and the text and JSON dumps of whatever the
 * script left render.
 */
import fc from 'fast-check';
import { argDescribe, isPtError } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import { CliError, renderTextDump, runScript, tableTree, treeJson } from '../dist/index.js';

const RUNS = 150;

const field = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue() },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      '0x0',
      '0x1000',
      '0x200000',
      '0xffffffffffffffff',
      '0x10000000000000000',
      '-1',
      'rw',
      'READ|WRITE',
      'x',
      '',
      4096,
      -1,
      0.5,
      2 ** 53,
    ),
  },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }).map((k) => `0x${(k * 0x1000).toString(16)}`) },
);
const op = fc.constantFrom(
  'map',
  'unmap',
  'iova_to_phys',
  'set_dirty',
  'read_and_clear_dirty',
  'dump',
  'deinit',
  '__proto__',
  'constructor',
  'frob',
);
const step = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op, iova: field, paddr: field, len: field, size: field, prot: field, flags: field }, { requiredKeys: ['op'] }),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);
const script = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      format: fc.constantFrom('amdv1', 'x86_64', 'vtdss', 'riscv64', 'mock', 'nope'),
      steps: fc.array(step, { maxLength: 8 }),
    }),
  },
  { weight: 1, arbitrary: fc.jsonValue() },
);

describe('fuzz: genpt run scripts', () => {
  it(`${RUNS} hostile scripts: run, or refused with a CliError; the dump renders`, () => {
    let ran = 0;
    fc.assert(
      fc.property(script, (s) => {
        let runner: ReturnType<typeof runScript>;
        try {
          runner = runScript(s as object);
        } catch (e) {
          if (e instanceof CliError || isPtError(e)) return;
          throw new Error(`${JSON.stringify(s)}: ${(e as Error)?.stack ?? argDescribe(e)}`);
        }
        ran++;
        const t = runner.table;
        if (t?.isLive) {
          const tree = tableTree(t, 'fuzz');
          expect(renderTextDump(tree)).toMatch(/table/);
          expect(() => JSON.stringify(treeJson(tree))).not.toThrow();
          t.validate();
        }
      }),
      { numRuns: RUNS, seed: 0x636c69 },
    );
    expect(ran).toBeGreaterThan(RUNS / 10);
  });
});
