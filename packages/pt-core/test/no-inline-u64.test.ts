/**
 * u64.ts is the one place that knows how to carry, borrow and split: every
 * package's src/ must use its helpers rather than hand-written copies, which
 * drift (a missed `>>> 0`, a carry with a branch, a split that forgets mod
 * 2^64). Comment lines are not code and are skipped.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../../..');
const EXEMPT = new Set(['packages/pt-core/src/u64.ts']);
const TWO32 = String.raw`(?:0xffffffff|0x100000000|4294967296|2\s*\*\*\s*32|TWO32)(?![\w])`;

const RULES: Array<[string, RegExp]> = [
  ['inline carry (use u64AddCarry / u64AddHi / u64AddLoSum)', new RegExp(String.raw`>>>\s*0\s*\)?\s*\+.*>=?\s*` + TWO32)],
  ['inline borrow (use u64SubBorrow / u64SubHi)', /<\s*[\w.!\]]+\s*>>>\s*0\s*\?\s*1\s*:\s*0/],
  [
    'inline carry or borrow on a zero word (use u64IncHi / u64DecHi)',
    /===?\s*-?[01]\s*\?\s*(?:1\s*:\s*0|\(\s*[\w.]+\s*[-+]\s*1\s*\)\s*\|\s*0)|if\s*\(\s*[\w.]+\s*===?\s*-?[01]\s*\)\s*[\w.]+\s*=\s*\(\s*[\w.]+\s*[-+]\s*1\s*\)\s*\|\s*0/,
  ],
  ['bigint split (use hiOfBig / loOfBig)', /(?:>>\s*32n|&\s*0xffff_?ffffn)(?![\w])/i],
  ['bigint join (use u64ToBigInt)', /\)\s*<<\s*32n(?![\w])/],
  ['number split (use numberHi / numberLo)', new RegExp(String.raw`%\s*` + TWO32 + String.raw`|Math\.floor\([^)]*\/\s*` + TWO32)],
];

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) sources(p, out);
    else if (name.endsWith('.ts')) out.push(p);
  }
  return out;
}

function findings(): string[] {
  const out: string[] = [];
  for (const pkg of readdirSync(join(root, 'packages'))) {
    const src = join(root, 'packages', pkg, 'src');
    if (!statSync(src, { throwIfNoEntry: false })?.isDirectory()) continue;
    for (const file of sources(src)) {
      const rel = relative(root, file).split('\\').join('/');
      if (EXEMPT.has(rel)) continue;
      readFileSync(file, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          const code = line.trim();
          if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
          for (const [what, re] of RULES) if (re.test(code)) out.push(`${rel}:${i + 1}: ${what}: ${code}`);
        });
    }
  }
  return out;
}

describe('one 64-bit vocabulary', () => {
  it('finds the packages to check', () => {
    expect(sources(join(root, 'packages/pt-core/src')).length).toBeGreaterThan(10);
    expect(readdirSync(join(root, 'packages')).length).toBeGreaterThan(5);
  });

  it('no package src/ carries, borrows or splits 64-bit values by hand (outside pt-core/src/u64.ts)', () => {
    expect(findings()).toEqual([]);
  });

  it('the rules catch the patterns they are for', () => {
    const hit = (s: string) => RULES.filter(([, re]) => re.test(s)).length;
    expect(hit('const hi = (ah + bh + ((al >>> 0) + (bl >>> 0) > 0xffffffff ? 1 : 0)) | 0;')).toBe(1);
    expect(hit('const hi = (a.hi + ((a.lo >>> 0) + done > 0xffffffff ? 1 : 0)) | 0;')).toBe(1);
    expect(hit('const borrow = sLo >>> 0 < fLo >>> 0 ? 1 : 0;')).toBe(1);
    expect(hit('const g1Hi = (g.endHi + (g1Lo === 0 ? 1 : 0)) | 0;')).toBe(1);
    expect(hit('const hi = Number((v >> 32n) & 0xffffffffn) | 0;')).toBe(1);
    expect(hit('const lo = Number(v & 0xffffffffn) | 0;')).toBe(1);
    expect(hit('if (endLo === 0) endHi = (endHi - 1) | 0;')).toBe(1);
    expect(hit('const sHi = (dHi + (dLo === -1 ? 1 : 0)) | 0;')).toBe(1);
    expect(hit('const l1Hi = lenLo === 0 ? (lenHi - 1) | 0 : lenHi | 0;')).toBe(1);
    expect(hit('return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);')).toBe(1);
    expect(hit('cmd.data[1] = Math.floor(semPa / 2 ** 32);')).toBe(1);
    expect(hit('lo = (page % 2 ** 32) | GCR3_VALID;')).toBe(1);
    expect(hit('const base = top + (1n << 32n);')).toBe(0);
    expect(hit('const hi = u64AddHi(ah, al, bh, bl);')).toBe(0);
  });
});
