#!/usr/bin/env node
/**
 * Does every package README's example run for a user who follows it?
 *
 * For each package: a fresh project (`npm init -y` as it comes, with
 * "type": "module"), its README's install line run there with the packed
 * tarballs standing in for @genpt/* (the @genpt packages those depend on
 * come from their tarballs too; npm never asks the registry for them), then
 * every ```ts example of the README (scripts/readme-blocks.mjs) written to
 * example-N.ts and
 * - type-checked against the installed packages' declarations (tsc --strict,
 *   module NodeNext, as a TypeScript user compiles it),
 * - run with tsx: it must exit 0 and print exactly the lines the README
 *   says it prints.
 * Also: the install line names every package an example imports, installs
 * exactly those @genpt packages and what they depend on, and the installed
 * CLI answers `genpt --version` and `npx @genpt/cli --version`.
 *
 * Usage: pnpm readme-check [--keep] [<package dir>...] (builds with turbo,
 * packs, checks; --keep leaves the temporary directory). scripts/release-check.mjs
 * runs the same check on the tarballs it packs once for all its gates.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { importedPackages, parseReadme } from './readme-blocks.mjs';
import {
  CheckError,
  children,
  genptClosure,
  installedGenpt,
  installTarballs,
  mapLimit,
  mustRun,
  npmCache,
  packPackages,
  run,
  workspacePackages,
} from './toolchain/pack.mjs';

const root = path.resolve(import.meta.dirname, '..');
const rootRequire = createRequire(path.join(root, 'package.json'));

/** What a program printed, line by line (blank lines kept: the README's block must show them too). */
const lines = (text) => (text === '' ? [] : text.replace(/\n$/, '').split('\n'));
const head = (text, n = 12) => text.trim().split('\n').slice(0, n).join('\n');

/** The first line where two line lists differ, or null. */
function firstDifference(want, got) {
  for (let i = 0; i < Math.max(want.length, got.length); i++) {
    if (want[i] !== got[i]) return `line ${i + 1}: README says ${JSON.stringify(want[i])}, printed ${JSON.stringify(got[i])}`;
  }
  return null;
}

/** tsconfig for the examples: what `tsc --init` users have, strict, NodeNext; node's types from the workspace. */
function exampleTsconfig(files) {
  return {
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [path.join(root, 'node_modules', '@types')],
    },
    files,
  };
}

/**
 * Check one package's README in a scratch project under tmp.
 * Returns [label, problems] rows.
 */
async function checkPackage(pkg, { packages, tarballs, tmp }) {
  const label = `${pkg.name} README`;
  const problems = [];
  const readme = readFileSync(path.join(root, 'packages', pkg.dir, 'README.md'), 'utf8');
  const { install, examples } = parseReadme(readme);
  if (!install) return [[label, ['no `npm install ...` line in a ```sh block']]];
  if (install.packages[0] !== pkg.name) problems.push(`the install line starts with ${install.packages[0]}, not ${pkg.name}`);
  if (examples.length === 0) problems.push('no ```ts example');
  for (const n of install.packages) {
    if (n.startsWith('@genpt/') && !tarballs.has(n)) problems.push(`the install line names ${n}, which is no package of the workspace`);
  }
  for (const [i, ex] of examples.entries()) {
    for (const imp of importedPackages(ex.code)) {
      if (!install.packages.includes(imp))
        problems.push(`example ${i + 1} (README line ${ex.line}) imports ${imp}, which the install line does not name`);
    }
  }
  if (problems.length) return [[label, problems]];

  const project = path.join(tmp, `readme-${pkg.dir}`);
  mkdirSync(project);
  try {
    await installTarballs(project, {
      tarballs,
      args: install.args,
      cache: npmCache(root),
      logs: path.join(tmp, 'npm-logs'),
    });
  } catch (e) {
    return [[label, [`${install.command}: ${head(e.message)}`]]];
  }
  const want = genptClosure(
    packages,
    install.packages.filter((n) => tarballs.has(n)),
  );
  const got = installedGenpt(project);
  if (got.names.join(' ') !== want.join(' ')) problems.push(`installed ${got.names.join(' ')}; expected exactly ${want.join(' ')}`);
  for (const n of got.workspaceRanges) problems.push(`the packed ${n} still has a workspace: range`);

  const files = examples.map((_ex, i) => `example-${i + 1}.ts`);
  examples.forEach((ex, i) => void writeFileSync(path.join(project, files[i]), ex.code));
  writeFileSync(path.join(project, 'tsconfig.json'), `${JSON.stringify(exampleTsconfig(files), null, 2)}\n`);

  const node = process.execPath;
  const env = { ...process.env, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: '' };
  const tsc = rootRequire.resolve('typescript/lib/tsc.js');
  const tsx = path.join(path.dirname(rootRequire.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const typecheck = await run(node, [tsc, '-p', 'tsconfig.json'], { cwd: project, env, timeout: 120_000 });
  const rows = [
    ['  examples type-check (tsc --strict, NodeNext)', typecheck.code === 0 ? [] : [head(typecheck.stdout + typecheck.stderr)]],
  ];
  for (const [i, ex] of examples.entries()) {
    const r = await run(node, [tsx, files[i]], { cwd: project, env });
    const exProblems = [];
    if (r.code !== 0) exProblems.push(`exit ${r.code}: ${head(r.stderr || r.stdout)}`);
    else if (ex.expected) {
      const diff = firstDifference(ex.expected, lines(r.stdout));
      if (diff) exProblems.push(diff);
    }
    const what = ex.expected ? `prints its ${ex.expected.length} line(s)` : 'runs';
    rows.push([`  example ${i + 1} (line ${ex.line}) ${what}`, exProblems]);
  }

  const bins = pkg.manifest.bin ? Object.keys(pkg.manifest.bin) : [];
  for (const bin of bins) {
    const installed = await run(path.join(project, 'node_modules', '.bin', bin), ['--version'], { cwd: project, env });
    const npx = await run('npx', ['--offline', '--cache', npmCache(root), pkg.name, '--version'], { cwd: project, env });
    for (const [cmd, r] of [
      [`${bin} --version`, installed],
      [`npx ${pkg.name} --version`, npx],
    ]) {
      const out = r.stdout.trim();
      rows.push([
        `  ${cmd} prints ${pkg.version}`,
        r.code === 0 && out === pkg.version ? [] : [`exit ${r.code}: ${head(out || r.stderr, 4)}`],
      ]);
    }
  }
  return [[`${label}: ${install.command}`, problems], ...rows];
}

/**
 * Check every package's README (or those in `only`, by dir) with the tarballs
 * already packed. Returns [label, problems] rows.
 */
export async function checkReadmes({ packages, tarballs, tmp, only = [] }) {
  const chosen = only.length ? packages.filter((p) => only.includes(p.dir)) : packages;
  // Two at a time: each is an npm install then short node runs, on 2 cores.
  const results = await mapLimit(chosen, 2, (pkg) =>
    checkPackage(pkg, { packages, tarballs, tmp }).catch((e) => [
      [`${pkg.name} README`, [e instanceof CheckError ? e.message : String(e.stack ?? e)]],
    ]),
  );
  return results.flat();
}

/** Print rows as `label  ok` / `label  FAILED` with the problems under them; true when all passed. */
export function printRows(rows) {
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, problems] of rows) {
    console.log(`  ${label.padEnd(width)}  ${problems.length ? 'FAILED' : 'ok'}`);
    for (const p of problems) console.log(`      ${String(p).replaceAll('\n', '\n      ')}`);
  }
  return rows.every(([, problems]) => problems.length === 0);
}

/** Build the packages with turbo (cache hits after a build or test run). */
export async function build() {
  await mustRun('pnpm build', 'pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    timeout: 600_000,
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
  });
}

/** Run main(tmp) with a temporary directory that is removed however it ends (children killed first). */
export async function withTmp(prefix, keep, main) {
  const tmp = mkdtempSync(path.join(tmpdir(), prefix));
  let cleaned = false;
  const cleanup = () => {
    if (cleaned) return;
    cleaned = true;
    for (const child of children) child.kill('SIGKILL');
    if (keep) console.log(`kept ${tmp}`);
    else rmSync(tmp, { recursive: true, force: true, maxRetries: 5 });
  };
  const onSignal = (sig, num) => () => {
    console.log(`${prefix.replace(/-$/, '')}: ${sig}, cleaning up`);
    cleanup();
    process.exit(128 + num);
  };
  const handlers = [
    ['SIGINT', onSignal('SIGINT', 2)],
    ['SIGTERM', onSignal('SIGTERM', 15)],
    ['SIGHUP', onSignal('SIGHUP', 1)],
  ];
  for (const [sig, h] of handlers) process.on(sig, h);
  try {
    return await main(tmp);
  } finally {
    cleanup();
    for (const [sig, h] of handlers) process.off(sig, h);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const args = process.argv.slice(2);
  const keep = args.includes('--keep');
  const only = args.filter((a) => !a.startsWith('--'));
  let ok = false;
  try {
    ok = await withTmp('genpt-readme-check-', keep, async (tmp) => {
      await build();
      const packages = workspacePackages(root);
      const packs = path.join(tmp, 'packs');
      mkdirSync(packs);
      const tarballs = await packPackages(root, packages, packs);
      return printRows(await checkReadmes({ packages, tarballs, tmp, only }));
    });
  } catch (e) {
    console.error(e instanceof CheckError ? `readme-check: ${e.message}` : e);
  }
  console.log(`readme check ${ok ? 'passed' : 'FAILED'} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  process.exit(ok ? 0 : 1);
}
