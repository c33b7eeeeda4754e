import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { IOMMU_READ, IOMMU_WRITE, PT_FEAT_SIGN_EXTEND, isPtError } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import { formats } from '../dist/formats.js';
import { MemoryImage, runScript, tableImage, walkImage } from '../dist/index.js';
import { tempDir, walkArgsFrom, walkArgv, writeJson } from './helpers.js';
import { genpt } from './run-cli.js';

/** xorshift32: the same tables every run. */
function rng(seed: number): () => number {
  let s = seed | 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Each format's default config, and the tables whose granule or stage differs from it. */
const WALK_CASES: Array<{ name: string; config?: string }> = [
  ...[...formats.keys()].map((name) => ({ name })),
  { name: 'armv8', config: 's1-16k-dbm' },
  { name: 'armv8', config: 's1-64k-dbm' },
  { name: 'armv8', config: 's1-4k-ttbr1' },
  { name: 'armv8', config: 's2-4k-48' },
];

describe('walk over an image agrees with iova_to_phys', () => {
  for (const { name, config } of WALK_CASES) {
    it(`${name}${config ? ` (${config})` : ''}: random maps of every alignment, every mapped page walked from the file`, () => {
      const rand = rng(0x5eed + name.length + (config?.length ?? 0));
      const flags = { format: name, config };
      // The table's VA and OA widths (DART v1: 30 and 36 bits) bound the random maps.
      const probe = runScript({ format: name, steps: [] }, flags).table!.common;
      // The upper half (TTBR1) translates only IOVAs with the prefix set.
      const g = probe.granuleLg2sz;
      const gran = 1n << BigInt(g);
      const vaBase = probe.vaPrefix === 0 ? 0n : ((1n << 64n) - 1n) & ~((1n << BigInt(probe.maxVaszLg2)) - 1n);
      const vaSpan = 1n << BigInt(Math.min(32, probe.maxVaszLg2));
      const oaSpan = 1n << BigInt(probe.maxOaszLg2);
      const steps: object[] = [];
      const maps: Array<{ iova: bigint; len: bigint; prot: number }> = [];
      for (let i = 0; i < 60; i++) {
        // OAs aligned to a granule..1G, so every page size the alignment allows turns up
        const align = 2n ** BigInt(g + Math.floor(rand() * (31 - g)));
        const iova = vaBase | (((BigInt(Math.floor(rand() * 2 ** 20)) * gran) % vaSpan) & ~(align - 1n));
        const len = BigInt(1 + Math.floor(rand() * (2 ** 22 / Number(gran)))) * gran;
        const paddr = (BigInt(Math.floor(rand() * 2 ** 24)) * align) % oaSpan;
        const prot = rand() < 0.5 ? IOMMU_READ : IOMMU_READ | IOMMU_WRITE;
        steps.push({ op: 'map', iova: `0x${iova.toString(16)}`, paddr: `0x${paddr.toString(16)}`, len: `0x${len.toString(16)}`, prot });
        maps.push({ iova, len, prot });
      }
      const runner = runScript({ format: name, steps }, flags);
      const t = runner.table!;
      const ok = runner.records.filter((r) => (r.result as { err: unknown }).err === 0).length;
      expect(ok).toBeGreaterThan(20);
      // a device write to the first writable map that took
      const okAt = (i: number): boolean => (runner.records[i]!.result as { err: unknown }).err === 0;
      const written = maps.findIndex((m, i) => okAt(i) && (m.prot & IOMMU_WRITE) !== 0);
      const tracked = t.fmt.hasWriteDirty && t.fmt.dirtySupported(t.common);
      const dirtyAt = written < 0 || !tracked ? undefined : maps[written]!.iova;
      if (dirtyAt !== undefined) t.setDirty(dirtyAt);

      const file = path.join(tempDir('walk'), 'mem.bin');
      writeFileSync(file, tableImage(runner));
      const image = new MemoryImage(file, t.common.mem.basePa);
      const c = t.common;
      const params = {
        features: c.features,
        maxVaszLg2: c.maxVaszLg2,
        maxOaszLg2: c.maxOaszLg2,
        granuleLg2sz: c.granuleLg2sz,
        tablememLg2sz: c.tablememLg2sz,
      };
      const probes: bigint[] = [];
      // every page of every map (the granule's pages), and a random byte in each
      for (const m of maps) {
        for (let a = m.iova; a < m.iova + m.len; a += gran) probes.push(a);
        probes.push(m.iova + m.len - 1n, m.iova + BigInt(Math.floor(rand() * Number(m.len))));
      }
      for (let i = 0; i < 120; i++) probes.push(vaBase | BigInt(Math.floor(rand() * 2 ** 32)));
      // past the table: the upper half's hole on sign-extended tables, else above the top
      probes.push(c.feature(PT_FEAT_SIGN_EXTEND) ? 1n << BigInt(c.maxVaszLg2 - 1) : 1n << 63n);
      let mapped = 0;
      try {
        for (const iova of probes) {
          const w = walkImage(t.fmt, params, image, c.topTable, c.topLevel, iova);
          let want: bigint | string;
          try {
            want = BigInt(t.iovaToPhys(iova));
          } catch (e) {
            if (!isPtError(e)) throw e;
            want = e.code;
          }
          if (typeof want === 'string') {
            expect(w.fault?.code, `${iova.toString(16)}`).toBe(want);
          } else if (want === 0n) {
            expect(w.fault?.code, `${iova.toString(16)}`).toBe('ENOENT');
          } else {
            mapped++;
            expect(w.fault, `${iova.toString(16)}`).toBeUndefined();
            expect(w.oa, `${iova.toString(16)}`).toBe(want);
            const leaf = w.levels.at(-1)!.leaf!;
            // the last map over the IOVA set its prot (later maps over it fail)
            const m = maps.find(
              (x, i) => (runner.records[i]!.result as { err: unknown }).err === 0 && x.iova <= iova && iova < x.iova + x.len,
            );
            if (m !== undefined) expect(leaf.prot! & (IOMMU_READ | IOMMU_WRITE), `${iova.toString(16)}`).toBe(m.prot);
            expect(w.levels.length).toBe(c.topLevel - w.levels.at(-1)!.level + 1);
          }
        }
        if (dirtyAt !== undefined) {
          expect(walkImage(t.fmt, params, image, c.topTable, c.topLevel, dirtyAt).levels.at(-1)!.leaf!.dirty).toBe(true);
        }
      } finally {
        image.close();
      }
      expect(mapped).toBeGreaterThan(60);
    });
  }
});

describe('genpt walk', () => {
  const dir = tempDir('walk-cli');
  const script = writeJson(dir, 's.json', {
    format: 'x86_64',
    steps: [
      { op: 'map', iova: '0x200000', paddr: '0x40000000', len: '0x200000', prot: 'READ' },
      { op: 'map', iova: '0xffff800000001000', paddr: '0x81234000', len: '0x1000', prot: 'READ|WRITE' },
    ],
  });
  const image = path.join(dir, 'mem.bin');
  const made = genpt(['run', script, '--image', image]);
  const args = walkArgsFrom(made.stdout);

  it('run --image writes the table memory and says how to walk it', () => {
    expect(made.status, made.stderr).toBe(0);
    expect(made.stdout).toMatch(/^image: .*mem\.bin, 0x[0-9a-f]+ bytes from PA 0x10000000000; top level 3 table at 0x[0-9a-f]+$/m);
    expect(args).toMatchObject({ format: 'x86_64', config: 'sext-48', base: '0x10000000000', topLevel: '3' });
  });

  it('prints each level and the OA (decimal IOVA accepted)', () => {
    const r = genpt(walkArgv(args, image, String(0x201234)));
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^walk 0x201234: x86_64 \(config sext-48\), level 3 top at 0x10000000000 spanning 48 VA bits/);
    expect(lines[1]).toMatch(/^L3 table 0x10000000000 \[0\] +entry @0x10000000000 = 0x[0-9a-f]+ +table -> 0x[0-9a-f]+$/);
    expect(lines[2]).toMatch(/^L2 table 0x[0-9a-f]+ \[0\] .* table -> /);
    expect(lines[3]).toMatch(/^L1 table 0x[0-9a-f]+ \[1\] +entry @0x[0-9a-f]+8 = 0x400000a5 +leaf 2M at OA 0x40000000 r-$/);
    expect(lines[4]).toBe('oa 0x40001234');
  });

  it('walks the sign-extended upper half', () => {
    const r = genpt(walkArgv(args, image, '0xffff800000001abc'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^L3 table 0x10000000000 \[256\] /m);
    expect(r.stdout).toMatch(/leaf 4K at OA 0x81234000 rw$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('oa 0x81234abc');
  });

  it('--json gives the levels and the OA', () => {
    const r = genpt([...walkArgv(args, image, '0x3fffff'), '--json']);
    expect(r.status).toBe(0);
    const w = JSON.parse(r.stdout) as { oa: string; levels: Array<{ level: number; kind: string; sizeLg2?: number; protText?: string }> };
    expect(w.oa).toBe('0x401fffff');
    expect(w.levels.map((l) => [l.level, l.kind])).toEqual([
      [3, 'table'],
      [2, 'table'],
      [1, 'leaf'],
    ]);
    expect(w.levels[2]).toMatchObject({ sizeLg2: 21, protText: 'r-' });
  });

  it('a fault prints the reason and exits 1: not mapped, outside the table, a table outside the image', () => {
    const miss = genpt(walkArgv(args, image, '0x400000'));
    expect(miss.status).toBe(1);
    expect(miss.stdout).toMatch(/^L1 table .* \[2\] .* = 0x0 +empty$/m);
    expect(miss.stdout).toMatch(/^fault: ENOENT: IOVA 0x400000 is not mapped: the level 1 entry at index 2 is empty$/m);
    expect(miss.stderr).toBe('genpt: ENOENT: translation of 0x400000 faulted at level 1\n');
    const hole = genpt(walkArgv(args, image, '0x800000000000'));
    expect(hole.status).toBe(1);
    expect(hole.stdout).toMatch(
      /^fault: ERANGE: IOVA 0x800000000000 is outside what a level 3 top translates \(48 VA bits, sign-extended\)$/m,
    );
    // Point the top's first entry at a table beyond the image: P|RW|U|A and an address.
    const bytes = readFileSync(image);
    const rootOff = Number(BigInt(args.root) - BigInt(args.base));
    bytes.writeBigUInt64LE(0x7000000000n | 0x27n, rootOff);
    const bad = path.join(dir, 'bad.bin');
    writeFileSync(bad, bytes);
    const ef = genpt(walkArgv(args, bad, '0x200000'));
    expect(ef.status).toBe(1);
    expect(ef.stdout).toMatch(/^fault: EFAULT: the level 3 entry points to a table at 0x7000000000, outside the image$/m);
  });

  it('AMDv1: a top that grew, a contiguous entry and a dirty one', () => {
    const amd = writeJson(dir, 'amd.json', [
      { op: 'map', iova: '0x8000010000', paddr: '0x50010000', len: '0x10000', prot: 'rw' },
      { op: 'set_dirty', iova: '0x8000013000' },
    ]);
    const img = path.join(dir, 'amd.bin');
    const made = genpt(['run', amd, '--image', img]);
    expect(made.stdout).toMatch(/driver: change_top, the top grows to level 3/);
    const a = walkArgsFrom(made.stdout);
    expect(a).toMatchObject({ format: 'amdv1', config: 'host-l6', topLevel: '3' });
    const r = genpt(walkArgv(a, img, '0x800001abcd'));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^L3 table 0x[0-9a-f]+ \[1\] /m);
    expect(r.stdout).toMatch(/^L0 table 0x[0-9a-f]+ \[26\] .* leaf 64K \(contiguous, 16 items\) at OA 0x50010000 rw dirty$/m);
    expect(r.stdout.trim().split('\n').at(-1)).toBe('oa 0x5001abcd');
    // the config's starting level is 2: the grown table decodes wrongly without --top-level
    const stale = genpt(walkArgv({ ...a, topLevel: '2' }, img, '0x800001abcd'));
    expect(stale.status).toBe(1);
    expect(stale.stdout).toMatch(/^fault: ERANGE: IOVA 0x800001abcd is outside what a level 2 top translates \(39 VA bits\)$/m);
  });

  it('a top level below what the VA width needs is EINVAL, and a walk reads only the entries it visits', () => {
    const runner = runScript({
      format: 'x86_64',
      config: 'sext-48',
      steps: [{ op: 'map', iova: '0x1000', paddr: '0x40000000', len: '0x1000', prot: 3 }],
    });
    const t = runner.table!;
    const c = t.common;
    const file = path.join(tempDir('walk-top'), 'm.bin');
    writeFileSync(file, tableImage(runner));
    const image = new MemoryImage(file, c.mem.basePa);
    const params = { features: c.features, maxVaszLg2: c.maxVaszLg2, maxOaszLg2: c.maxOaszLg2 };
    // Level 0 would be a 2^36-entry top: refused, not a 512 GiB read.
    expect(() => walkImage(t.fmt, params, image, c.topTable, 0, 0x1000n)).toThrow(
      /level 0 top spanning 48 VA bits would hold 2\^36 entries/,
    );
    // Level 1 (a 2^27-entry top, 1 GiB) reads one 4 KiB group per level.
    const read: number[] = [];
    const orig = image.readWords.bind(image);
    image.readWords = (pa: number, len: number) => {
      read.push(len);
      return orig(pa, len);
    };
    const w = walkImage(t.fmt, params, image, c.topTable, 1, 0x1000n);
    expect(w.fault?.code).toBe('ENOENT');
    expect(Math.max(...read)).toBeLessThanOrEqual(4096);
    read.length = 0;
    expect(walkImage(t.fmt, params, image, c.topTable, c.topLevel, 0x1000n).oa).toBe(0x40000000n);
    expect(read).toEqual([4096, 4096, 4096, 4096]);
    image.close();
    const r = genpt([
      'walk',
      '--format',
      'x86_64',
      '--config',
      'sext-48',
      '--image',
      file,
      '--base',
      `0x${c.mem.basePa.toString(16)}`,
      '--root',
      `0x${c.topTable.toString(16)}`,
      '--top-level',
      '0',
      '--iova',
      '0x1000',
    ]);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^genpt: EINVAL: a level 0 top spanning 48 VA bits/);
  });

  it('refuses bad arguments: exit 2 with EINVAL, ENOENT for a missing image', () => {
    const base = (over: Record<string, string>): string[] => {
      const a = { ...args, ...over };
      const argv = walkArgv(a, over.image ?? image, over.iova ?? '0x1000');
      return argv;
    };
    const bad = (argv: string[], code: string, re: RegExp) => {
      const r = genpt(argv);
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^genpt: ${code}: `));
      expect(r.stderr).toMatch(re);
      expect(r.stdout).toBe('');
    };
    bad(base({ image: path.join(dir, 'nope.bin') }), 'ENOENT', /image .*nope\.bin does not exist/);
    bad(base({ image: dir }), 'EINVAL', /is not a file/);
    bad(base({ root: '0x20000000000' }), 'EINVAL', /--root 0x20000000000 is outside the image \[0x10000000000, 0x1000000[0-9a-f]{4}\)/);
    bad(base({ base: '0' }), 'EINVAL', /--root 0x10000000000 is outside the image \[0x0, /);
    bad(base({ root: '0x10000000008' }), 'EINVAL', /--root 0x10000000008 is not 4K aligned/);
    bad(base({ base: '0x10000000004' }), 'EINVAL', /--base 0x10000000004 is not 8-byte aligned/);
    bad(base({ iova: 'banana' }), 'EINVAL', /--iova "banana" is not a hex or decimal number/);
    bad(base({ iova: '0x1_0000_0000_0000_0000' }), 'EOVERFLOW', /--iova/);
    bad(base({ topLevel: '7' }), 'EINVAL', /--top-level must be an integer 0\.\.4, got "7"/);
    bad(base({ format: 'ppc' }), 'EINVAL', /unknown format "ppc"/);
    bad(base({ config: 'nope' }), 'EINVAL', /x86_64 has no config "nope"/);
    bad(['walk', '--image', image, '--root', args.root], 'EINVAL', /--iova is required/);
    bad(['walk', '--root', '0', '--iova', '0'], 'EINVAL', /--image is required/);
    bad(['walk', '--format', 'x86_64', '--image', image, '--iova', '0'], 'EINVAL', /--root is required/);
    const empty = path.join(dir, 'empty.bin');
    writeFileSync(empty, '');
    bad(base({ image: empty }), 'EINVAL', /image .*empty\.bin is empty/);
  });
});

describe('genpt walk: ARMv8 images of every granule', () => {
  for (const [config, g] of [
    ['s1-4k-dbm', 12],
    ['s1-16k-dbm', 14],
    ['s1-64k-dbm', 16],
  ] as const) {
    it(`${config}: dump --image, then walk a page, a contiguous run and a block, as iova_to_phys translates them`, () => {
      const dir = tempDir('walk-armv8');
      const page = 2 ** g;
      // a block one level up (2M / 32M / 512M), a contiguous run, a single page
      const block = 2 ** (g + g - 3);
      const contig = page * (g === 12 ? 16 : g === 14 ? 128 : 32);
      const steps = [
        { op: 'map', iova: hex(block), paddr: hex(block * 4), len: hex(block), prot: 'READ|WRITE' },
        { op: 'map', iova: hex(block * 2), paddr: hex(block * 8 + contig), len: hex(contig), prot: 'READ' },
        { op: 'map', iova: hex(block * 3 + page), paddr: hex(0x7000000 * page), len: hex(page), prot: 'READ|WRITE' },
      ];
      const script = writeJson(dir, 's.json', { format: 'armv8', config, steps });
      const image = path.join(dir, 'mem.bin');
      const made = genpt(['run', script, '--image', image]);
      expect(made.status, made.stderr).toBe(0);
      const args = walkArgsFrom(made.stdout);
      expect(args).toMatchObject({ format: 'armv8', config });
      const t = runScript({ format: 'armv8', config, steps }).table!;
      const sizes: number[] = [];
      for (const iova of [block + 0x1234, block * 2 + contig - 1, block * 3 + page + 5]) {
        const r = genpt([...walkArgv(args, image, hex(iova)), '--json']);
        expect(r.status, r.stderr).toBe(0);
        const w = JSON.parse(r.stdout) as { oa: string; levels: Array<{ sizeLg2?: number }> };
        expect(w.oa).toBe(hex(t.iovaToPhys(BigInt(iova))));
        sizes.push(w.levels.at(-1)!.sizeLg2!);
      }
      expect(sizes).toEqual([g + g - 3, Math.log2(contig), g]);
    });
  }
});

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}
