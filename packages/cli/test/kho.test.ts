/** genpt run's preserve and restore steps and --preserve: a table preserved in one process is restored from its image in another. */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir, writeJson } from './helpers.js';
import { genpt } from './run-cli.js';

const BUILD = [
  { op: 'map', iova: '0x200000', paddr: '0x40000000', len: '0x200000', prot: 'rw' },
  { op: 'map', iova: '0x401000', paddr: '0x81234000', len: '0x3000', prot: 'r' },
  { op: 'set_dirty', iova: '0x402000' },
];

type Rec = { op: string; result?: unknown };
const results = (trace: string, op: string): unknown[] =>
  (JSON.parse(trace) as { steps: Rec[] }).steps.filter((s) => s.op === op).map((s) => s.result);

describe('genpt run: preserve and restore', () => {
  for (const format of ['x86_64', 'amdv1', 'vtdss', 'riscv64']) {
    it(`${format}: --image and --preserve in one process, restore from them in another: same dump and translations, then ops continue`, () => {
      const dir = tempDir('kho');
      const image = path.join(dir, 'mem.bin');
      const desc = path.join(dir, 'desc.json');
      const a = genpt([
        'run',
        writeJson(dir, 'a.json', { format, steps: [...BUILD, { op: 'dump' }] }),
        '--json',
        '--image',
        image,
        '--preserve',
        desc,
      ]);
      expect(a.status, a.stderr).toBe(0);
      expect(a.stderr).toMatch(/preserve: .*desc\.json, \d+ table pages/);
      const d = JSON.parse(readFileSync(desc, 'utf8')) as { format: string; tables: unknown[] };
      expect(d.format).toBe(format === 'riscv64' ? 'riscv_64' : format);
      const after = [
        { op: 'dump' },
        { op: 'iova_to_phys', iova: '0x201234' },
        { op: 'iova_to_phys', iova: '0x402abc' },
        { op: 'read_and_clear_dirty', iova: '0x400000', size: '0x200000', flags: 0 },
        { op: 'unmap', iova: '0x401000', len: '0x1000' },
        { op: 'map', iova: '0x10000000', paddr: '0x90000000', len: '0x1000', prot: 'rw' },
        { op: 'iova_to_phys', iova: '0x10000010' },
        { op: 'deinit' },
      ];
      const script = { format, steps: [{ op: 'restore', image, descriptor: desc }, ...after] };
      const b = genpt(['run', writeJson(dir, 'b.json', script), '--json']);
      expect(b.status, b.stderr).toBe(0);
      expect(results(b.stdout, 'restore')).toEqual([{ err: 0, tables: d.tables.length }]);
      expect(results(b.stdout, 'dump')[0]).toEqual(results(a.stdout, 'dump')[0]);
      expect(results(b.stdout, 'iova_to_phys')).toEqual(['0x40001234', '0x81235abc', '0x90000010']);
      // Every later result is what the original table gives in one process without the restore.
      const c = genpt(['run', writeJson(dir, 'c.json', { format, steps: [...BUILD, ...after] }), '--json']);
      const tail = (trace: string): unknown[] =>
        (JSON.parse(trace) as { steps: Rec[] }).steps
          .filter((st) => st.result !== undefined)
          .slice(-after.length)
          .map((st) => st.result);
      expect(tail(b.stdout)).toEqual(tail(c.stdout));
      expect(results(b.stdout, 'deinit')).toEqual([{ leakedPages: 0 }]);
      // The text form says where it came from.
      const t = genpt(['run', path.join(dir, 'b.json')]);
      expect(t.stdout).toMatch(
        new RegExp(`restore from image ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ok, adopted ${d.tables.length} table pages`),
      );
    });
  }

  it('preserve then restore in the same memory; a restore without a descriptor uses the last preserve', () => {
    const dir = tempDir('kho');
    const file = path.join(dir, 'd.json');
    const r = genpt([
      'run',
      writeJson(dir, 's.json', {
        format: 'x86_64',
        steps: [...BUILD, { op: 'preserve', file }, { op: 'restore' }, { op: 'iova_to_phys', iova: '0x201234' }],
      }),
    ]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/preserve: ok, 4 table pages, top level 3 at 0x10000000000, descriptor written to/);
    expect(r.stdout).toMatch(/restore in the same memory: ok, adopted 4 table pages/);
    expect(r.stdout).toMatch(/iova_to_phys 0x201234 -> 0x40001234/);
    expect(JSON.parse(readFileSync(file, 'utf8')).tables).toHaveLength(4);
    // The --json trace of such a run replays.
    const j = genpt(['run', path.join(dir, 's.json'), '--json']);
    const trace = path.join(dir, 'trace.json');
    writeFileSync(trace, j.stdout);
    expect(genpt(['golden', trace]).stdout).toMatch(/1 passed, 0 failed/);
  });

  it('a truncated image, a wrong format and a bad step are refused', () => {
    const dir = tempDir('kho');
    const image = path.join(dir, 'mem.bin');
    const desc = path.join(dir, 'desc.json');
    expect(genpt(['run', writeJson(dir, 'a.json', { format: 'x86_64', steps: BUILD }), '--image', image, '--preserve', desc]).status).toBe(
      0,
    );
    const short = path.join(dir, 'short.bin');
    writeFileSync(short, readFileSync(image).subarray(0, 3 * 4096 + 100));
    const t = genpt(['run', writeJson(dir, 't.json', { format: 'x86_64', steps: [{ op: 'restore', image: short, descriptor: desc }] })]);
    expect(t.status).toBe(0);
    expect(t.stdout).toMatch(/restore from image .*: EINVAL \(.*truncated image/);
    const w = genpt(['run', writeJson(dir, 'w.json', { format: 'amdv1', steps: [{ op: 'restore', image, descriptor: desc }] })]);
    expect(w.stdout).toMatch(/EINVAL \(.*another format/);
    expect(genpt(['run', writeJson(dir, 'n.json', { format: 'x86_64', steps: [{ op: 'restore' }] })])).toMatchObject({ status: 2 });
    expect(genpt(['run', writeJson(dir, 'f.json', { format: 'x86_64', steps: [{ op: 'restore', image: 5 }] })]).stderr).toMatch(
      /image must be a file name/,
    );
    expect(
      genpt([
        'run',
        writeJson(dir, 'm.json', { format: 'x86_64', steps: [{ op: 'restore', image: path.join(dir, 'none.bin'), descriptor: desc }] }),
      ]).stderr,
    ).toMatch(/ENOENT: cannot read the image/);
  });
});
