import { describe, expect, it } from 'vitest';
import { tempDir, writeJson } from './helpers.js';
import { genpt } from './run-cli.js';

interface JsonRun {
  kind: 'L' | 'T' | 'E';
  firstIndex?: number;
  lastIndex?: number;
  index?: number;
  va: string;
  oa?: string;
  entries?: number;
  sizeLg2?: number;
  contigLg2?: number;
  protText?: string;
  dirty?: boolean | null;
  raws?: string[];
  table?: JsonTable;
}
interface JsonTable {
  level: number;
  path: number[];
  pa: string;
  numItems: number;
  used: number;
  runs: JsonRun[];
}

function tables(t: JsonTable): JsonTable[] {
  return [t, ...t.runs.flatMap((r) => (r.table ? tables(r.table) : []))];
}

describe('genpt dump', () => {
  it("without a script dumps the demo's table after its maps", () => {
    const r = genpt(['dump']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^amdv1 table \(host-l6\): top level 2 @0x[0-9a-f]+, 4 tables, 515 leaf entries mapping 1G\+4M\+64K$/m);
    expect(r.stdout).toMatch(/^ {6}\[1\] +0x1000-0x1fff +-> 0x1234402000-0x1234402fff +4K +rw +dirty$/m);
  });

  it('--json gives the same tree with every run; --raw adds every raw item', () => {
    const r = genpt(['dump', '--json', '--raw', '--format', 'x86_64']);
    expect(r.status, r.stderr).toBe(0);
    const d = JSON.parse(r.stdout) as {
      format: string;
      topLevel: number;
      tables: number;
      leafEntries: number;
      mappedBytes: string;
      root: JsonTable;
    };
    expect(d).toMatchObject({
      format: 'x86_64',
      config: 'sext-48',
      topLevel: 3,
      tables: 5,
      leafEntries: 512 + 1 + 16 + 1,
      mappedBytes: '0x40410000',
    });
    const all = tables(d.root);
    expect(all.map((t) => t.level)).toEqual([3, 2, 1, 0, 0]);
    const l0 = all[3]!;
    expect(l0.path).toEqual([0, 0, 0]);
    expect(l0.used).toBe(512);
    expect(l0.runs).toHaveLength(1);
    const run = l0.runs[0]!;
    expect(run).toMatchObject({
      kind: 'L',
      firstIndex: 0,
      lastIndex: 511,
      va: '0x0',
      oa: '0x1234401000',
      entries: 512,
      sizeLg2: 12,
      protText: 'rw',
    });
    expect(run.raws).toHaveLength(512);
    // every raw item holds its own OA (x86_64: bits 51:12)
    run.raws!.forEach((raw, i) => {
      expect(BigInt(raw) & 0xffffffffff000n).toBe(0x1234401000n + BigInt(i) * 4096n);
    });
    const big = all[1]!.runs.find((x) => x.kind === 'L')!;
    expect(big).toMatchObject({ firstIndex: 1, lastIndex: 1, va: '0x40000000', oa: '0x100000000', sizeLg2: 30, protText: 'rw' });
  });

  it('a large linear map dumps in lines that follow its runs, not its pages: alike tables are one run', () => {
    // 1 GiB in 4K pages (the paddr forces 4K): 262144 leaves in 512 leaf tables.
    const script = JSON.stringify({
      format: 'x86_64',
      config: 'amdv2-4',
      steps: [{ op: 'map', iova: '0x40000000', paddr: '0x1000', len: '0x40000000', prot: 'rw' }],
    });
    const r = genpt(['run', '-'], script);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^x86_64 table \(amdv2-4\): top level 3 @0x[0-9a-f]+, 515 tables, 262144 leaf entries mapping 1G$/m);
    expect(r.stdout).toMatch(
      /^ +\[0-511\] +0x40000000-0x7fffffff +512 tables alike \(same layout, OA continuing\), the first @0x[0-9a-f]+$/m,
    );
    expect(r.stdout).toMatch(/^ +\[0-511\] +0x40000000-0x401fffff +-> 0x1000-0x200fff +512 x 4K +rw$/m);
    expect(r.stdout.split('\n').length).toBeLessThan(20);
    // A break in the OA sequence is a new run: the tables either side are not alike.
    const broken = JSON.parse(script) as { steps: object[] };
    broken.steps = [
      { op: 'map', iova: '0x40000000', paddr: '0x1000', len: '0x200000', prot: 'rw' },
      { op: 'map', iova: '0x40200000', paddr: '0x90001000', len: '0x200000', prot: 'rw' },
      { op: 'map', iova: '0x40400000', paddr: '0x90201000', len: '0x200000', prot: 'rw' },
    ];
    const b = genpt(['run', '-'], JSON.stringify(broken));
    expect(b.stdout).toMatch(/^ +\[0\] +0x40000000-0x401fffff +table @/m);
    expect(b.stdout).toMatch(/^ +\[1-2\] +0x40200000-0x405fffff +2 tables alike/m);
    // --raw shows every table and every item.
    const raw = genpt(['run', '-', '--raw'], JSON.stringify(broken));
    expect(raw.stdout.split('\n').length).toBeGreaterThan(3 * 512);
  });

  it('--script dumps the table a script leaves; --raw puts every item on a line', () => {
    const dir = tempDir('dump');
    const script = writeJson(dir, 's.json', {
      format: 'amdv1',
      steps: [
        { op: 'map', iova: '0x10000', paddr: '0x80010000', len: '0x10000', prot: 'READ' },
        { op: 'map', iova: '0x30000', paddr: '0x90030000', len: '0x2000', prot: 'WRITE' },
      ],
    });
    const r = genpt(['dump', '--script', script]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^ +\[16-31\] +0x10000-0x1ffff +-> 0x80010000-0x8001ffff +64K \(16 items\) +r- +clean$/m);
    // write-only is expressible on AMDv1
    expect(r.stdout).toMatch(/^ +\[48-49\] +0x30000-0x31fff +-> 0x90030000-0x90031fff +8K \(2 items\) +-w +clean$/m);
    const raw = genpt(['dump', '-s', script, '--raw']);
    const items = raw.stdout.split('\n').filter((l) => / raw 0x/.test(l) && l.includes('->'));
    expect(items).toHaveLength(18);
    expect(items[0]).toMatch(/^ +\[16\] +0x10000-0x10fff +-> 0x80010000 +64K +r- +clean +raw 0x[0-9a-f]+$/);
    expect(items[17]).toMatch(/^ +\[49\] +0x31000-0x31fff +-> 0x90031000 +8K +-w +clean +raw 0x[0-9a-f]+$/);
  });

  it('refuses bad arguments', () => {
    const dir = tempDir('dump-bad');
    expect(genpt(['dump', 'file.json'])).toMatchObject({ status: 2, stderr: expect.stringContaining('EINVAL: dump takes no arguments') });
    expect(genpt(['dump', '--script', '/no/such.json'])).toMatchObject({ status: 2, stderr: expect.stringMatching(/^genpt: ENOENT: /) });
    expect(genpt(['dump', '--format', 'sparc'])).toMatchObject({ status: 2, stderr: expect.stringContaining('unknown format "sparc"') });
    const gone = writeJson(dir, 'gone.json', [{ op: 'deinit' }]);
    expect(genpt(['dump', '--script', gone])).toMatchObject({ status: 1, stderr: expect.stringMatching(/^genpt: ENODEV: .*deinit/) });
    expect(genpt(['dump', '--script', gone, '--html', `${dir}/x.html`])).toMatchObject({ status: 1 });
  });
});
