import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { findGoldenFiles, goldenDir, jsonEqual, type GoldenTrace } from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { formats } from '../dist/formats.js';
import { runScript } from '../dist/index.js';
import { tempDir, writeJson } from './helpers.js';
import { genpt } from './run-cli.js';

const SCRIPT = {
  format: 'x86_64',
  config: 'sext-48',
  name: 'mine',
  steps: [
    { op: 'map', iova: '0x200000', paddr: '0x40000000', len: '0x200000', prot: 'READ|WRITE' },
    { op: 'map', iova: '0xffff800000000000', paddr: 0x80000000, len: 4096, prot: 'r' },
    { op: 'map', iova: '0x200000', paddr: '0x40000000', len: '0x1000', prot: 3 },
    { op: 'iova_to_phys', iova: '2101812' },
    { op: 'iova_to_phys', iova: '0xf000000000000000' },
    { op: 'dump' },
    { op: 'unmap', iova: '0x200000', len: '0x200000' },
  ],
};

describe('genpt run', () => {
  it('prints every step with its result, the driver callbacks, and the table at the end', () => {
    const dir = tempDir('run');
    const r = genpt(['run', writeJson(dir, 's.json', SCRIPT)]);
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^genpt run: mine: x86_64 \(config sext-48\), top level 3, 7 steps$/m);
    expect(out).toMatch(/^map 0x200000-0x3fffff \(2M\) -> 0x40000000 rw: ok, mapped 2M$/m);
    expect(out).toMatch(/^map 0xffff800000000000-0xffff800000000fff \(4K\) -> 0x80000000 r-: ok, mapped 4K$/m);
    // an errno an op returns is a result, not a failure
    expect(out).toMatch(/^map 0x200000-0x200fff \(4K\) -> 0x40000000 rw: EADDRINUSE, mapped 0$/m);
    expect(out).toMatch(/^iova_to_phys 0x201234 -> 0x40001234$/m);
    expect(out).toMatch(/^iova_to_phys 0xf000000000000000 -> ERANGE \(outside the table\)$/m);
    expect(out).toMatch(/^unmap 0x200000-0x3fffff \(2M\): unmapped 2M; gather: invalidate 0x200000-0x3fffff, 0 table pages freed$/m);
    // the dump step and the final dump: the upper half is sign-extended
    const dumps = out.split('x86_64 table (sext-48)');
    expect(dumps).toHaveLength(3);
    expect(dumps[1]).toMatch(/\[1\] +0x200000-0x3fffff +-> 0x40000000-0x401fffff +2M +rw/);
    expect(dumps[2]).not.toContain('0x40000000');
    expect(dumps[2]).toMatch(/^ {2}\[256\] +0xffff800000000000-0xffff807fffffffff +table @0x/m);
    expect(dumps[2]).toMatch(/\[0\] +0xffff800000000000-0xffff800000000fff +-> 0x80000000-0x80000fff +4K +r-$/m);
  });

  it('reports the driver callbacks an op causes: the AMDv1 top grows', () => {
    const r = genpt(['run', '-'], JSON.stringify([{ op: 'map', iova: '0x8000000000', paddr: '0x0', len: '0x1000', prot: 1 }]));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^genpt run: script: amdv1 \(config host-l6\), top level 2, 1 steps$/m);
    expect(r.stdout).toMatch(/^ {2}driver: change_top, the top grows to level 3$/m);
    expect(r.stdout).toMatch(/^L3 table /m);
  });

  it('--json writes a genpt-golden/1 trace that genpt golden replays', () => {
    const dir = tempDir('run-json');
    const r = genpt(['run', writeJson(dir, 's.json', SCRIPT), '--json']);
    expect(r.status, r.stderr).toBe(0);
    const trace = JSON.parse(r.stdout) as GoldenTrace;
    expect(trace).toMatchObject({ schema: 'genpt-golden/1', format: 'x86_64', name: 'mine', init: { err: 0, topLevel: 3 } });
    expect(trace.steps.map((s) => s.op)).toEqual(SCRIPT.steps.map((s) => s.op));
    expect(trace.steps[0]).toEqual({ ...SCRIPT.steps[0], prot: 3, result: { err: 0, mapped: '0x200000' } });
    expect(trace.steps[2]).toMatchObject({ result: { err: 'EADDRINUSE', mapped: '0x0' } });
    expect(trace.steps[3]).toEqual({ op: 'iova_to_phys', iova: '0x201234', result: '0x40001234' });
    writeFileSync(path.join(dir, 'mine.json'), r.stdout);
    const g = genpt(['golden', path.join(dir, 'mine.json')]);
    expect(g.stdout.trim()).toBe('1 passed, 0 failed, 0 skipped');
  });

  it('--json of a golden trace reproduces the kernel trace bit for bit (subprocess)', () => {
    const file = path.join(goldenDir, 'amdv1', 'host-l6--top-growth.json');
    const r = genpt(['run', file, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const want = JSON.parse(readFileSync(file, 'utf8')) as GoldenTrace;
    const got = JSON.parse(r.stdout) as GoldenTrace;
    expect(got.steps.some((s) => s.op === 'change_top')).toBe(true);
    expect(jsonEqual(got.init, want.init)).toBe(true);
    expect(jsonEqual(got.steps, want.steps)).toBe(true);
  });

  it('run of every installed golden trace reproduces it: results, callbacks, dumps', () => {
    let checked = 0;
    for (const file of findGoldenFiles(goldenDir)) {
      const want = JSON.parse(readFileSync(file, 'utf8')) as GoldenTrace;
      if (!formats.has(want.format) || want.init.err !== 0) continue;
      // Strip the results: the script is the steps alone.
      const steps = want.steps.filter((s) => s.op !== 'change_top' && s.op !== 'iotlb_sync').map(({ result: _r, ...s }) => s);
      const runner = runScript({ format: want.format, config: want.config, steps });
      const got = runner.trace(want.name);
      expect(jsonEqual(got.init, want.init), file).toBe(true);
      expect(jsonEqual(got.steps, want.steps), file).toBe(true);
      checked++;
    }
    expect(checked).toBeGreaterThanOrEqual(56);
  });

  it("names a golden trace's config by its golden name; --json with --image/--html keeps stdout JSON", () => {
    const dir = tempDir('run-files');
    const file = path.join(goldenDir, 'x86_64', 'sext-57--dirty.json');
    const text = genpt(['run', file]);
    expect(text.stdout).toMatch(/^genpt run: sext-57\/dirty: x86_64 \(config sext-57\), top level 4, /);
    // Traces end with deinit, which leaves no table to write: drop it.
    const trace = JSON.parse(readFileSync(file, 'utf8')) as GoldenTrace;
    const live = writeJson(dir, 'live.json', { ...trace, steps: trace.steps.filter((x) => x.op !== 'deinit') });
    expect(genpt(['run', file, '--image', path.join(dir, 'gone.bin')])).toMatchObject({
      status: 1,
      stderr: expect.stringContaining('ENODEV'),
    });
    const image = path.join(dir, 'm.bin');
    const html = path.join(dir, 'm.html');
    const r = genpt(['run', live, '--json', '--image', image, '--html', html]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ name: 'sext-57/dirty' });
    expect(r.stderr).toMatch(/^image: .*m\.bin, 0x[0-9a-f]+ bytes from PA 0x10000000000; top level 4 table at 0x[0-9a-f]+$/m);
    expect(r.stderr).toMatch(
      /^decode with: genpt walk --format x86_64 --config sext-57 --image .*m\.bin --base 0x10000000000 --root 0x[0-9a-f]+ --top-level 4 --iova IOVA$/m,
    );
    expect(r.stderr).toMatch(/^html: .*m\.html$/m);
    expect(statSync(image).size % 4096).toBe(0);
    expect(readFileSync(html, 'utf8')).toMatch(/^<!doctype html>/);
  });

  it('a table that fails to initialise is an op failure (exit 1); --json still writes the trace', () => {
    const script = JSON.stringify({ format: 'amdv1', config: 'start0', steps: [] });
    const r = genpt(['run', '-', '--json'], script);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^genpt: EINVAL: amdv1 config start0 failed to initialise/);
    expect(JSON.parse(r.stdout)).toMatchObject({ init: { err: 'EINVAL' }, steps: [] });
  });

  it('an op after deinit cannot run: exit 1 with ENODEV, after the steps before it', () => {
    const r = genpt(['run', '-'], JSON.stringify([{ op: 'deinit' }, { op: 'unmap', iova: 0, len: 4096 }]));
    expect(r.status).toBe(1);
    expect(r.stdout).toMatch(/^deinit: 0 table pages leaked$/m);
    expect(r.stderr).toMatch(/^genpt: ENODEV: step 1 \(unmap\): /);
    // A map's ENODEV is a result of the step, printed; the run still exits 1.
    const m = genpt(['run', '-'], JSON.stringify([{ op: 'deinit' }, { op: 'map', iova: 0, paddr: 0, len: 4096, prot: 3 }]));
    expect(m.status).toBe(1);
    expect(m.stdout).toMatch(/: ENODEV, mapped 0$/m);
    expect(m.stderr).toMatch(/^genpt: ENODEV: 1 step ran after deinit and could not run$/m);
  });

  it('--format and --config override the script; the script config only applies to its own format', () => {
    const steps = [{ op: 'map', iova: '0x0', paddr: '0x0', len: '0x1000', prot: 'rw' }];
    const r1 = genpt(['run', '-', '--format', 'x86_64'], JSON.stringify({ format: 'amdv1', config: 'fixed5', steps }));
    expect(r1.stdout).toMatch(/x86_64 \(config sext-48\)/);
    const r2 = genpt(['run', '-', '--config', 'amdv2-4'], JSON.stringify({ format: 'x86_64', config: 'sext-48', steps }));
    expect(r2.stdout).toMatch(/x86_64 \(config amdv2-4\)/);
    const own = { format: 'x86_64', config: { features: ['FLUSH_RANGE'], hwMaxVaszLg2: 57, hwMaxOaszLg2: 52, topLevel: 4 }, steps };
    const r3 = genpt(['run', '-'], JSON.stringify(own));
    expect(r3.status, r3.stderr).toBe(0);
    expect(r3.stdout).toMatch(/top level 4/);
  });

  it('refuses bad scripts and arguments with the errno and exit 2', () => {
    const dir = tempDir('run-bad');
    const bad = (script: unknown, re: RegExp) => {
      const r = genpt(['run', writeJson(dir, 'bad.json', script)]);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
      expect(r.stdout).toBe('');
    };
    bad([{ op: 'frob' }], /^genpt: EINVAL: .*bad\.json step 0: op "frob" is not one of map, unmap/);
    // Names every object has are not ops either.
    for (const op of ['__proto__', 'constructor', 'toString', 'hasOwnProperty'])
      bad([{ op }], /^genpt: EINVAL: .*step 0: op ".*" is not one of map/);
    bad([{ op: 'map', iova: 'zz', paddr: 0, len: 4096, prot: 3 }], /EINVAL: .*step 0: iova "zz" is not a hex or decimal number/);
    bad([{ op: 'map', iova: '0x10000000000000000', paddr: 0, len: 4096, prot: 3 }], /^genpt: EOVERFLOW: .*iova/);
    bad([{ op: 'map', iova: -1, paddr: 0, len: 4096, prot: 3 }], /EINVAL: .*iova -1 is not a non-negative safe integer/);
    bad([{ op: 'map', iova: 0, paddr: 0, len: 4096 }], /EINVAL: .*prot must be a number or names/);
    bad([{ op: 'map', iova: 0, paddr: 0, len: 4096, prot: 64 }], /EINVAL: .*prot 64 is not 0\.\.63/);
    bad([{ op: 'map', iova: 0, paddr: 0, len: 4096, prot: 'exec' }], /EINVAL: .*prot "exec" is not one of/);
    bad([{ op: 'unmap', iova: 0 }], /EINVAL: .*len is required/);
    bad([{ op: 'unmap', iova: 0, len: 1, size: 1 }], /EINVAL: .*unmap has no field "size"/);
    bad([{ op: 'read_and_clear_dirty', iova: 0, size: 1, flags: 2 }], /EINVAL: .*flags must be 0 or 1/);
    bad({ steps: 3 }, /EINVAL: .*a script is a list of steps/);
    bad({ format: 'nope', steps: [] }, /EINVAL: unknown format "nope"/);
    bad({ format: 'x86_64', config: { features: ['NOPE'] }, steps: [] }, /EINVAL: script config: unknown feature NOPE for x86_64/);
    writeFileSync(path.join(dir, 'text.json'), 'not json');
    expect(genpt(['run', path.join(dir, 'text.json')])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^genpt: EINVAL: .*text\.json: not JSON/),
    });
    expect(genpt(['run', path.join(dir, 'missing.json')])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^genpt: ENOENT: script .*missing\.json does not exist/),
    });
    expect(genpt(['run', dir])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^genpt: EISDIR: /) });
    expect(genpt(['run'])).toMatchObject({ status: 2, stderr: expect.stringContaining('EINVAL: run needs one script file') });
    expect(genpt(['run', 'a.json', 'b.json'])).toMatchObject({ status: 2 });
  });
});
