import { describe, expect, it } from 'vitest';
import { formats } from '../dist/formats.js';
import { genpt } from './run-cli.js';

describe('genpt demo', () => {
  it('amdv1 (the default): maps, a debugfs-style dump, unmap with gather and freed table, the table after', () => {
    const r = genpt(['demo']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    const out = r.stdout;
    expect(out).toMatch(/^genpt demo: amdv1 page table, config host-l6$/m);
    // every map succeeds
    expect(out).toMatch(/^map 0x0-0x1fffff \(2M\) -> 0x1234401000 rw: ok, mapped 2M$/m);
    expect(out).toMatch(/^map 0x200000-0x3fffff \(2M\) -> 0x40000000 r-: ok, mapped 2M$/m);
    expect(out).toMatch(/^map 0x40000000-0x7fffffff \(1G\) -> 0x100000000 rw: ok, mapped 1G$/m);
    expect(out).toMatch(/^set_dirty 0x1000: ok$/m);
    expect(out).toMatch(/^iova_to_phys 0x1234 -> 0x1234402234$/m);
    expect(out).toMatch(/^iova_to_phys 0x600000 -> 0x0 \(not mapped\)$/m);
    // the dump: levels, indices, VA and OA ranges, sizes, prot, dirty
    expect(out).toMatch(/^L2 table @0x[0-9a-f]+ +VA span 2\^39 +512 x 1G +\(2 used\)$/m);
    expect(out).toMatch(/^ {6}\[1\] +0x1000-0x1fff +-> 0x1234402000-0x1234402fff +4K +rw +dirty$/m);
    expect(out).toMatch(/^ {6}\[2-511\] +0x2000-0x1fffff +-> 0x1234403000-0x1234600fff +510 x 4K +rw +clean$/m);
    expect(out).toMatch(/^ {4}\[1\] +0x200000-0x3fffff +-> 0x40000000-0x401fffff +2M +r- +clean$/m);
    // AMDv1 maps 64K as one contiguous entry of 16 items
    expect(out).toMatch(/^ {6}\[16-31\] +0x410000-0x41ffff +-> 0x50010000-0x5001ffff +64K \(16 items\) +rw +clean$/m);
    expect(out).toMatch(/^ {2}\[1\] +0x40000000-0x7fffffff +-> 0x100000000-0x13fffffff +1G +rw +clean$/m);
    // unmap: the gather and the level 0 table that went with the small pages
    expect(out).toMatch(/^unmap 0x0-0x3fffff \(4M\): unmapped 4M; gather: invalidate 0x0-0x3fffff, 1 table page freed$/m);
    expect(out).toMatch(/^ {2}freed: L0 table @0x[0-9a-f]+ \(path \[0,0\], VA 0x0-0x1fffff\)$/m);
    const after = out.slice(out.indexOf('The table afterwards'));
    expect(after).toContain('1 leaf entry mapping 64K');
    expect(after).not.toContain('0x1234401000');
    expect(out).toMatch(/^deinit: 0 table pages leaked$/m);
  });

  it('x86_64: the same ranges with 4K/2M/1G pages only, no dirty column', () => {
    const r = genpt(['demo', '--format', 'x86_64']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^genpt demo: x86_64 page table, config sext-48$/m);
    expect(r.stdout).toMatch(/^ +\[0-511\] +0x0-0x1fffff +-> 0x1234401000-0x1234600fff +512 x 4K +rw$/m);
    expect(r.stdout).toMatch(/^ +\[16-31\] +0x410000-0x41ffff +-> 0x50010000-0x5001ffff +16 x 4K +rw$/m);
    expect(r.stdout).not.toMatch(/dirty$|clean$/m);
    expect(r.stdout).toMatch(/^deinit: 0 table pages leaked$/m);
  });

  it('--raw lists every item with its raw value', () => {
    const r = genpt(['demo', '-f', 'x86_64', '--raw']);
    expect(r.status).toBe(0);
    const items = r.stdout.split('\n').filter((l) => /^ +\[\d+\] .* raw 0x[0-9a-f]+$/.test(l) && l.includes('->'));
    // 512 + 16 4K pages, the 2M page and the 1G page in the first dump; after
    // the cut the 2M page is 512 4K pages; the collapse puts it back; the 16 at the end
    const first = 512 + 16 + 1 + 1;
    expect(items.length).toBe(first + (first - 1 + 512) + first + 16);
    expect(r.stdout).toMatch(/^cut at 0x[0-9a-f]+: ok; gather: invalidate 0x200000-0x3fffff, 0 table pages freed$/m);
    expect(r.stdout).toMatch(/^collapse 0x200000-0x3fffff \(2M\): ok; gather: invalidate 0x200000-0x3fffff, 1 table page freed$/m);
  });

  for (const name of formats.keys()) {
    it(`runs on every installed format: ${name}`, () => {
      const r = genpt(['demo', '--format', name]);
      expect(r.status, r.stderr).toBe(0);
      // A large page: 2M, or the short descriptor's 16M supersection.
      expect(r.stdout).toMatch(/: ok, mapped (2M|16M)$/m);
      expect(r.stdout).toMatch(/^unmap .*, [1-9]\d* table pages? freed$/m);
      // Hitless where the format declares it (amdv1, x86_64), EOPNOTSUPP elsewhere;
      // with one page size (DART) the cut falls between two pages: nothing to do.
      const fmt = formats.get(name)!.format;
      const onePageSize = /page sizes [0-9]+[KMG]$/m.test(r.stdout);
      const cutOk = fmt.oaTableXchg || onePageSize;
      expect(r.stdout).toMatch(cutOk ? /^cut at 0x[0-9a-f]+: ok;/m : /^cut at 0x[0-9a-f]+: EOPNOTSUPP;/m);
      if (onePageSize) expect(r.stdout).toMatch(/^cut at 0x[0-9a-f]+: ok; gather: nothing to invalidate/m);
      expect(r.stdout).toMatch(/^deinit: 0 table pages leaked$/m);
    });
  }

  it('takes another golden config', () => {
    const r = genpt(['demo', '-f', 'x86_64', '--config', 'amdv2-5-nogaps']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^L4 table /m);
  });

  it('refuses bad arguments', () => {
    expect(genpt(['demo', '--format', 'nope'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^genpt: EINVAL: unknown format "nope" \(installed: amdv1, x86_64/),
    });
    expect(genpt(['demo', '--config', 'nope'])).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('golden configs: fixed5, host-l4-nogaps, host-l6'),
    });
    expect(genpt(['demo', '--config', '/no/such/config.json'])).toMatchObject({
      status: 2,
      stderr: expect.stringMatching(/^genpt: ENOENT: /),
    });
    expect(genpt(['demo', 'extra'])).toMatchObject({ status: 2, stderr: expect.stringContaining('EINVAL') });
    expect(genpt(['demo', '--config', 'start0'])).toMatchObject({
      status: 1,
      stderr: expect.stringMatching(/^genpt: EINVAL: amdv1 \(config start0\) failed to initialise/),
    });
  });
});
