/**
 * What a package README promises a user, read from its fenced blocks:
 *
 * - the install line: the first `npm install ...` line of a ```sh block
 *   (a trailing `# comment` is not part of it);
 * - the examples: every block opened with exactly ```ts, each a whole
 *   program that runs as it is in a project with only what the install line
 *   installs (a block that is not, such as a test file, opens with
 *   ```ts title="..." and is not run);
 * - what an example prints: when the text after its block is only the word
 *   "prints", the plain ``` block that follows holds the expected lines.
 *
 * Shared by scripts/readme-example.ts (the packages' tests, against the
 * sources) and scripts/readme-check.mjs (the packed tarballs in a fresh project).
 */

const FENCE = /^```([^\n`]*)\n([\s\S]*?)^```[ \t]*$/gm;

/** @param {string} text */
export function parseReadme(text) {
  const blocks = [];
  for (const m of text.matchAll(FENCE)) {
    const start = m.index;
    blocks.push({ info: m[1].trim(), body: m[2], start, end: start + m[0].length, line: text.slice(0, start).split('\n').length });
  }
  let install = null;
  for (const b of blocks) {
    if (b.info !== 'sh' || install) continue;
    const line = b.body.split('\n').find((l) => /^npm install\s/.test(l));
    if (line) {
      const command = line.replace(/\s+#.*$/, '').trim();
      const args = command.split(/\s+/).slice(2);
      install = { command, args, packages: args.filter((a) => !a.startsWith('-')) };
    }
  }
  const examples = [];
  blocks.forEach((b, i) => {
    if (b.info !== 'ts') return;
    const next = blocks[i + 1];
    const between = next ? text.slice(b.end, next.start) : '';
    const expected = next && next.info === '' && between.trim() === 'prints' ? next.body.split('\n').slice(0, -1) : null;
    examples.push({ code: b.body, expected, line: b.line });
  });
  return { install, examples };
}

/** The packages an example imports (bare specifiers, subpaths folded into their package; node: builtins left out). */
export function importedPackages(code) {
  const names = new Set();
  for (const m of code.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) {
    const spec = m[1] ?? m[2];
    if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
  return [...names];
}
