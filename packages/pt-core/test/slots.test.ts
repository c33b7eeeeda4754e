/**
 * The build's per-format copies (slots.ts): byte-identical code and source
 * maps in every copy, each copy a distinct set of functions, formats of one
 * class in one slot.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AnyPtFormat } from '@genpt/pt-core';
import { ptFormatSlot, ptIterSlots } from '@genpt/pt-core/internal';
import { ToyFormat, toy } from '@genpt/pt-core/testing';
import { describe, expect, it } from 'vitest';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../dist');

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.js') || f.endsWith('.js.map'))
    .sort();
}

describe('slots', () => {
  it('ship the original and 10 copies of iter/, byte for byte, with the original source maps', () => {
    expect(ptIterSlots.length).toBe(11);
    const original = files(path.join(dist, 'iter'));
    expect(original).toContain('entry-ops.js');
    for (let i = 1; i < ptIterSlots.length; i++) {
      const dir = path.join(dist, `iter-${i}`);
      expect(files(dir)).toEqual(original);
      for (const f of original) {
        expect(readFileSync(path.join(dir, f), 'utf8'), `iter-${i}/${f}`).toBe(readFileSync(path.join(dist, 'iter', f), 'utf8'));
      }
    }
    const map = JSON.parse(readFileSync(path.join(dist, 'iter-3/entry-ops.js.map'), 'utf8')) as { sources: string[] };
    // Relative to dist/iter-3/: the one TypeScript source.
    expect(path.resolve(dist, 'iter-3', map.sources[0]!)).toBe(path.resolve(dist, '../src/iter/entry-ops.ts'));
  });

  it('are distinct functions per copy', () => {
    const fns = new Set(ptIterSlots.map((s) => s.ptEntryOps));
    expect(fns.size).toBe(ptIterSlots.length);
    const src = new Set(ptIterSlots.map((s) => Function.prototype.toString.call(s.ptEntryOps)));
    expect(src.size).toBe(1);
  });

  it('go one per format object, in first-use order, round robin past the last, never slot 0', () => {
    const copies = ptIterSlots.length - 1;
    const a = ptFormatSlot(toy, copies);
    expect(a).toBeGreaterThanOrEqual(1);
    expect(ptFormatSlot(toy, copies)).toBe(a);
    const others = Array.from({ length: copies }, () => ptFormatSlot(new ToyFormat() as AnyPtFormat, copies));
    // The next `copies` formats take every slot once, starting after a's.
    expect(new Set(others).size).toBe(copies);
    expect(others.every((s) => s >= 1 && s <= copies)).toBe(true);
    expect(ptFormatSlot(toy, 0)).toBe(0);
  });
});
