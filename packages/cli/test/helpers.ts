/** Shared test helpers: temp dirs, scripts on disk, the image notes genpt prints. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function tempDir(tag: string): string {
  return mkdtempSync(path.join(tmpdir(), `genpt-${tag}-`));
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
