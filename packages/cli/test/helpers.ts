/** Shared test helpers: temp dirs, scripts on disk, the image notes genpt prints. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
// Every test file that uses these helpers removes its temp dirs when it ends.
afterAll(() => {
  for (const d of made.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh temp dir, removed when the test file is done. */
export function tempDir(tag: string): string {
  const d = mkdtempSync(path.join(tmpdir(), `genpt-${tag}-`));
  made.push(d);
  return d;
}

export function writeJson(dir: string, name: string, value: unknown): string {
  const file = path.join(dir, name);
  writeFileSync(file, JSON.stringify(value));
  return file;
}

export interface WalkArgs {
  format: string;
  config: string;
  base: string;
  root: string;
  topLevel: string;
}

/** The walk arguments from the "decode with: genpt walk ..." note of --image. */
export function walkArgsFrom(text: string): WalkArgs {
  const line = text.split('\n').find((l) => l.startsWith('decode with: genpt walk'));
  if (line === undefined) throw new Error(`no walk note in:\n${text}`);
  const arg = (name: string): string => {
    const m = new RegExp(`--${name} (\\S+)`).exec(line);
    if (m === null) throw new Error(`no --${name} in ${line}`);
    return m[1]!;
  };
  return { format: arg('format'), config: arg('config'), base: arg('base'), root: arg('root'), topLevel: arg('top-level') };
}

export function walkArgv(a: WalkArgs, image: string, iova: string): string[] {
  return [
    'walk',
    '--format',
    a.format,
    '--config',
    a.config,
    '--image',
    image,
    '--base',
    a.base,
    '--root',
    a.root,
    '--top-level',
    a.topLevel,
    '--iova',
    iova,
  ];
}
