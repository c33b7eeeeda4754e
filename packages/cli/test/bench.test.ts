import { readFileSync } from 'node:fs';
import path from 'node:path';
import { IommuIotlbGather, putPagesList } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { minTablePages } from '../dist/bench/scale.js';
import { BENCH_FORMATS, checkIdentical, dumpText, prepare, SHAPES } from '../dist/bench/seed.js';
import { KERNEL_PAIR_NS } from '../dist/bench/kernel-reference.js';
import { PAIR_SHAPES } from '../dist/bench/pairs.js';
import { BENCH_TABLES } from '../dist/bench/tables.js';
import { tempDir } from './helpers.js';
import { genpt } from './run-cli.js';

describe('bench: the old baseline builds the same tables as iommupt', () => {
  for (const f of BENCH_FORMATS) {
    for (const shape of SHAPES) {
      it(`${f.label} ${shape.pgcount} x 2^${shape.pgsizeLg2}: identical dumps after map and after unmap`, () => {
        // 8 ranges back to back, as the timed batches lay them out
        expect(checkIdentical(f, shape, 8)).toEqual({ mapped: true, unmapped: true });
      });
    }

    it(`${f.label}: identical dumps over a mix of shapes, and old unmap reports the bytes`, () => {
      const { tNew, tOld, old, g } = prepare(f, { pgsizeLg2: 12, pgcount: 3 }, 1);
      // 2 MiB pages next to 4 KiB pages, across a table boundary
      tNew.domain.pgsizeBitmap = tOld.domain.pgsizeBitmap = (1n << 12n) | (1n << 21n);
      tNew.mapPages(2 ** 33, 2 ** 37, 2 ** 21, 5, 1);
      old.mapPages(2 ** 33, 2 ** 37, 2 ** 21, 5, 1);
      tNew.mapPages(2 ** 33 - 2 ** 14, 2 ** 38, 2 ** 12, 4, 3);
      old.mapPages(2 ** 33 - 2 ** 14, 2 ** 38, 2 ** 12, 4, 3);
      expect(dumpText(tNew)).toBe(dumpText(tOld));
      const og = new IommuIotlbGather();
      expect(old.unmapPages(2 ** 33, 2 ** 21, 5, og)).toBe(5 * 2 ** 21);
      // the old driver gathered the same range
      expect(og.toJSON()).toMatchObject({ start: '0x200000000', end: '0x2009fffff' });
      expect(tNew.unmapPages(2 ** 33, 2 ** 21, 5, g)).toBe(5 * 2 ** 21);
      expect(dumpText(tNew)).toBe(dumpText(tOld));
      putPagesList(tNew.common.mem, g.freelist);
      tNew.deinit();
      tOld.deinit();
    });

    it(`${f.label}: a scale-style map uses exactly the minimum number of table pages`, () => {
      const t = f.make();
      t.domain.pgsizeBitmap = 1n << 12n;
      const before = t.common.mem.pagesInUse;
      const iova = 2 ** 32 - 2 ** 28;
      const len = 2 ** 29;
      t.mapRange(iova, 2 ** 40, len, 3);
      expect(t.common.mem.pagesInUse - before + 1).toBe(minTablePages(t, iova, len, 12));
      const g = new IommuIotlbGather();
      expect(t.unmapRange(iova, len, g)).toBe(len);
      putPagesList(t.common.mem, g.freelist);
      t.deinit();
    });
  }
});

describe('genpt bench', () => {
  it("--json prints one row per format, op and shape with the issue's fields; --svg draws them", () => {
    const svg = path.join(tempDir('bench'), 'bench.svg');
    const r = genpt(['bench', '--quick', '--no-scale', '--no-ops', '--json', '--svg', svg]);
    expect(r.status).toBe(0);
    const all = JSON.parse(r.stdout) as Record<string, unknown>[];
    const rows = all.filter((x) => x.kind === undefined);
    expect(rows).toHaveLength(12);
    const keys = rows.map((x) => `${String(x.format)} ${String(x.op)} ${String(x.pgsizeLg2)}x${String(x.pgcount)}`);
    for (const format of ['amdv1', 'x86_64'])
      for (const op of ['map', 'unmap']) for (const s of ['12x1', '12x256', '21x256']) expect(keys).toContain(`${format} ${op} ${s}`);
    for (const row of rows) {
      for (const k of ['newAvgNs', 'newMinNs', 'oldAvgNs', 'oldMinNs']) {
        expect(row[k]).toBeGreaterThan(0);
      }
      expect(row.newMinNs as number).toBeLessThanOrEqual(row.newAvgNs as number);
      expect(row.oldMinNs as number).toBeLessThanOrEqual(row.oldAvgNs as number);
    }
    const drawn = readFileSync(svg, 'utf8');
    expect(drawn).toMatch(/^<svg/);
    expect(drawn.match(/<rect/g)!.length).toBeGreaterThanOrEqual(24);
    // Every row with a kernel figure drawn as its ratio: 12 seed rows, 12 pairs, 4 iova_to_phys.
    expect(drawn.match(/class="ratio"/g)!.length).toBe(28);
    expect(drawn).toContain('1.5x');
  });

  it('--json carries a pairNs row per format config and shape, and iova_to_phys rows, with the kernel figures where they exist', () => {
    const r = genpt(['bench', '--quick', '--no-scale', '--no-ops', '--json']);
    expect(r.status).toBe(0);
    const all = JSON.parse(r.stdout) as Record<string, unknown>[];
    const pairs = all.filter((x) => x.kind === 'pair');
    expect(pairs).toHaveLength(BENCH_TABLES.length * PAIR_SHAPES.length);
    for (const bt of BENCH_TABLES) {
      const mine = pairs.filter((p) => p.format === bt.format && p.config === bt.config);
      expect(mine.map((p) => p.pgcount)).toEqual(PAIR_SHAPES.map((s) => s.pgcount));
      for (const p of mine) {
        expect(p.pairNs as number).toBeGreaterThan(0);
        const kernel = KERNEL_PAIR_NS[`${bt.format} ${bt.config} ${String(p.pgsizeLg2)}x${String(p.pgcount)}`];
        expect(p.kernelPairNs).toBe(kernel ?? null);
      }
    }
    // The four formats Linux 7.0 has, in the configs the kernel was timed with, all have kernel figures.
    expect(pairs.filter((p) => p.kernelPairNs !== null)).toHaveLength(12);
    const iova = all.filter((x) => x.kind === 'iovaToPhys');
    for (const bt of BENCH_TABLES) expect(iova.some((x) => x.format === bt.format && x.config === bt.config)).toBe(true);
    for (const x of iova) expect(x.ns as number).toBeGreaterThan(0);
    const ref = (f: string, leaf: number) => iova.find((x) => x.format === f && x.leafLg2 === leaf)?.kernelNs;
    expect([ref('amdv1', 12), ref('amdv1', 21), ref('x86_64', 12), ref('x86_64', 21)]).toEqual([32.0, 15.8, 33.5, 17.5]);
  });

  it('--no-kernel leaves the every-format rows out', () => {
    const r = genpt(['bench', '--quick', '--no-scale', '--no-kernel', '--no-ops', '--json']);
    expect(r.status).toBe(0);
    expect((JSON.parse(r.stdout) as Record<string, unknown>[]).every((x) => x.kind === undefined)).toBe(true);
  });

  it('live-table op rows: cut, collapse, split, dirty, preserve/restore and the AMD model DMA, each timed', () => {
    const r = genpt(['bench', '--quick', '--no-scale', '--no-kernel', '--json']);
    expect(r.status, r.stderr).toBe(0);
    const ops = (JSON.parse(r.stdout) as Record<string, unknown>[]).filter((x) => x.kind === 'liveOp');
    const names = ops.map((x) => `${String(x.format)} ${String(x.op)}`);
    for (const f of ['amdv1', 'x86_64'])
      for (const op of ['cut 2M', 'collapse 2M', 'split 1G->4K', 'collapse 4K->1G', 'preserve 64G of 4K', 'restore 64G of 4K'])
        expect(names).toContain(`${f} ${op}`);
    // Dirty tracking: amdv1's table has it, the amdv2-4 config does not.
    expect(names).toContain('amdv1 readAndClearDirty 1G 1%');
    expect(names).not.toContain('x86_64 readAndClearDirty 1G 1%');
    expect(names).toContain('amdv1 DMA translate, IOTLB miss');
    expect(names).toContain('amdv1 DMA translate, IOTLB hit');
    for (const x of ops) {
      expect(x.ns as number).toBeGreaterThan(0);
      expect(x.calls as number).toBeGreaterThanOrEqual(1);
    }
  });

  it("prints the seed's layout", () => {
    const r = genpt(['bench', '--quick', '--no-scale', '--no-ops']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('iommu_map(): pgsz ,avg new,old ns, min new,old ns , min % (+ve is better)');
    expect(r.stdout).toContain('iommu_unmap(): pgsz ,avg new,old ns, min new,old ns , min % (+ve is better)');
    expect(r.stdout).toMatch(/^2\^12, \d+,\d+ , \d+,\d+ , -?\d+\.\d\d \(AMDV1\)$/m);
    expect(r.stdout).toMatch(/^256\*2\^21, \d+,\d+ , \d+,\d+ , -?\d+\.\d\d$/m);
    expect(r.stdout).toMatch(/\(AMDv2\)$/m);
    expect(r.stdout).toMatch(/^amdv1 {4}host-l6 {6}2\^12 +\d+\.\d +48\.6 +\d+\.\d\dx$/m);
    expect(r.stdout).toMatch(/^dart {5}v2-16k {7}2\^14 +\d+\.\d +- +-$/m);
    expect(r.stdout).toContain('iova_to_phys at random addresses of 1 GiB of leaves');
  });

  it('rejects a bad option value', () => {
    const r = genpt(['bench', '--runs', 'x']);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--runs must be a positive integer');
  });
});
