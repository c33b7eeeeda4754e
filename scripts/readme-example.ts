/**
 * Test helper shared by the packages: run one ```ts example of a package's
 * README (the first by default; scripts/readme-blocks.mjs says which blocks
 * are examples), with `@genpt/<pkg>` imports pointed at the built package
 * (dist/index.js, the module every other package's dist imports too, so
 * classes such as TableMemory are one and the same), and return what it
 * printed. Keeps every README example honest;
 * scripts/readme-check.mjs runs the same examples from the packed tarballs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { format } from 'node:util';
import { parseReadme } from './readme-blocks.mjs';

const root = path.resolve(import.meta.dirname, '..');

export async function runReadmeExample(pkgDir: string, index = 0): Promise<string[]> {
  const readme = readFileSync(path.join(pkgDir, 'README.md'), 'utf8');
  const example = parseReadme(readme).examples[index];
  if (!example) throw new Error(`no ts example #${index} in ${pkgDir}/README.md`);
  const src = example.code.replace(/from '@genpt\/([\w-]+)'/g, (_all, name: string) => {
    const target = path.join(root, 'packages', name, 'dist', 'index.js');
    return `from ${JSON.stringify(pathToFileURL(target).href)}`;
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'genpt-readme-'));
  const file = path.join(dir, 'example.ts');
  writeFileSync(file, src);
  const lines: string[] = [];
  const orig = console.log;
  console.log = (...args: unknown[]) => void lines.push(format(...args));
  try {
    await import(pathToFileURL(file).href);
  } finally {
    console.log = orig;
    rmSync(dir, { recursive: true, force: true });
  }
  return lines;
}
