import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { goldenDir, goldenIoPgtableDir } from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { tempDir } from './helpers.js';
import { genpt } from './run-cli.js';

describe('genpt golden', () => {
  it('replays the in-repo copy of every trace: installed formats pass, the rest are skipped', () => {
    const r = genpt(['golden', goldenDir]);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^181 passed, 0 failed, 0 skipped$/);
  });

  it("replays Linux's io-pgtable-arm traces (../golden-iopgtable/lpae) with ARMv8 in the io-pgtable encoding", () => {
    const r = genpt(['golden', path.join(goldenIoPgtableDir, 'lpae')]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('15 passed, 0 failed, 0 skipped');
  });

  it("replays Linux's io-pgtable-arm-v7s traces (../golden-iopgtable/armv7s) with the short descriptor", () => {
    const r = genpt(['golden', path.join(goldenIoPgtableDir, 'armv7s')]);
    expect(r.status, r.stdout).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('15 passed, 0 failed, 0 skipped');
  });

  it('checks the io-pgtable TLB callbacks: a table freed without its tlb_flush_walk fails', () => {
    const dir = tempDir('golden-v7s');
    const t = JSON.parse(readFileSync(path.join(goldenIoPgtableDir, 'armv7s', 'v7s-32-ns--random-1.json'), 'utf8'));
    const i = t.steps.findIndex((s: { op: string }) => s.op === 'tlb_flush_walk');
    t.steps.splice(i, 1);
    writeFileSync(path.join(dir, 'no-walk.json'), JSON.stringify(t));
    const r = genpt(['golden', dir, '--verbose']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('io-pgtable TLB callbacks before it');
    // The unmap that freed the table now reports one tlb_flush_walk fewer than genpt's freed tables.
    const m = /"(\d+) tables freed \(tlb_flush_walk\), genpt freed (\d+)"/.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m![2])).toBe(Number(m![1]) + 1);
  });

  it('reports the file, step, expected and actual of a mismatch, and exits 1', () => {
    const dir = tempDir('golden');
    const t = JSON.parse(readFileSync(path.join(goldenDir, 'amdv1', 'host-l6--errors.json'), 'utf8'));
    t.steps[5].result.mapped = '0x2000';
    writeFileSync(path.join(dir, 'bad.json'), JSON.stringify(t));
    writeFileSync(path.join(dir, 'good.json'), readFileSync(path.join(goldenDir, 'x86_64', 'sext-48--errors.json')));
    const r = genpt(['golden', dir, '--verbose']);
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('FAIL');
    expect(r.stdout).toContain('bad.json');
    expect(r.stdout).toContain('step 5 (map)');
    expect(r.stdout).toContain('expected: {"err":"ENXIO","mapped":"0x2000"}');
    expect(r.stdout).toContain('actual:   {"err":"ENXIO","mapped":"0x1000"}');
    expect(r.stdout).toMatch(/ok {3}.*good\.json/);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('1 passed, 1 failed, 0 skipped');
  });

  it('prints outcomes as JSON', () => {
    const r = genpt(['golden', path.join(goldenDir, 'amdv1', 'start0--basic.json'), '--json']);
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual([expect.objectContaining({ name: 'start0/basic', status: 'passed' })]);
  });

  it('refuses bad arguments with an errno on stderr', () => {
    expect(genpt(['golden', '/no/such/dir'])).toMatchObject({ status: 2, stderr: expect.stringContaining('ENOENT') });
    expect(genpt(['golden', '--bogus', goldenDir])).toMatchObject({ status: 2, stderr: expect.stringContaining('EINVAL') });
    expect(genpt(['golden', '--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('Usage: genpt golden') });
  });
});

describe('genpt', () => {
  it('lists its commands and refuses unknown ones', () => {
    expect(genpt(['--help'])).toMatchObject({ status: 0, stdout: expect.stringContaining('golden') });
    expect(genpt([])).toMatchObject({ status: 2 });
    expect(genpt(['frobnicate'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown command') });
  });

  it('prints its version', () => {
    const pkg = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) expect(genpt([flag])).toMatchObject({ status: 0, stdout: `${pkg.version}\n` });
  });

  it('reports a file it cannot write as genpt: ECODE, not a stack trace', () => {
    const r = genpt(['dump', '--html', '/no-such-dir/x.html']);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^genpt: ENOENT: no such file or directory, open '\/no-such-dir\/x\.html'\n$/);
  });

  it('golden with no argument replays the traces @genpt/golden ships', () => {
    const r = genpt(['golden']);
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^\d+ passed, 0 failed, \d+ skipped$/);
    // piped: no progress lines
    expect(r.stderr).toBe('');
  });
});
