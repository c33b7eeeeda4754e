/**
 * The per-format copies of the ops (src/slots.ts, scripts/slot-copies.mjs):
 * every copy is the original byte for byte with the original's source maps,
 * each format gets its own copy of every walk, and the registry's methods
 * are on PtIommu.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ToyFormat, toy } from '@genpt/pt-core/testing';
import { iommuPtImpl, iommuPtSlot, PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');
const cfg39 = { features: 0, hwMaxVaszLg2: 39, hwMaxOaszLg2: 52, topLevel: 2 };

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') || f.endsWith('.js.map'))
    .sort();
}

describe('ops slots', () => {
  it('are up to date: every dist/ops-N is dist/ops byte for byte, source maps included', () => {
    const original = files(path.join(dist, 'ops'));
    expect(original).toContain('map.js');
    const copies = readdirSync(dist).filter((d) => /^ops-\d+$/.test(d));
    expect(copies.length).toBe(10);
    for (const c of copies) {
      expect(files(path.join(dist, c))).toEqual(original);
      for (const f of original) {
        expect(readFileSync(path.join(dist, c, f), 'utf8'), `${c}/${f}`).toBe(readFileSync(path.join(dist, 'ops', f), 'utf8'));
      }
    }
    const slots = readFileSync(path.join(dist, 'slots.js'), 'utf8');
    for (const c of copies) expect(slots).toContain(`'./${c}/index.js'`);
  });

  it('map every copy back to the one TypeScript source', () => {
    const map = JSON.parse(readFileSync(path.join(dist, 'ops-7/map.js.map'), 'utf8')) as { sources: string[] };
    expect(path.resolve(dist, 'ops-7', map.sources[0]!)).toBe(path.resolve(dist, '../src/ops/map.ts'));
  });

  it('give each format object its own walks, compiled from the same code', () => {
    const a = new ToyFormat();
    const b = new ToyFormat();
    expect(iommuPtImpl(a)).toBe(iommuPtImpl(a));
    expect(iommuPtSlot(a)).not.toBe(iommuPtSlot(b));
    expect(iommuPtImpl(a).map).not.toBe(iommuPtImpl(b).map);
    expect(Function.prototype.toString.call(iommuPtImpl(a).map)).toBe(Function.prototype.toString.call(iommuPtImpl(b).map));
  });

  it('never compile source text at run time', () => {
    const banned = /\bnew Function\b|\beval\(/;
    for (const d of ['ops', '.']) {
      for (const f of files(path.join(dist, d)).filter((x) => x.endsWith('.js'))) {
        expect(banned.test(readFileSync(path.join(dist, d, f), 'utf8')), f).toBe(false);
      }
    }
  });

  it('put every registered op method on PtIommu', () => {
    const t = PtIommu.init(toy, cfg39);
    for (const m of [
      'mapRange',
      'mapPages',
      'unmapRange',
      'unmapPages',
      'iovaToPhys',
      'iovaToPhysWords',
      'readAndClearDirty',
      'setDirty',
    ]) {
      expect(typeof (t as unknown as Record<string, unknown>)[m], m).toBe('function');
    }
    t.mapRange(0x1000, 0x5000, 0x1000, 3);
    expect(t.iovaToPhys(0x1234)).toBe(0x5234);
    t.deinit();
  });
});
