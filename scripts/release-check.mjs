#!/usr/bin/env node
/**
 * Is every package ready to publish? Builds (turbo), packs every package
 * once, and checks the same tarballs with every release gate:
 *
 * - manifest: repository/homepage/bugs pointing at the package's folder, a
 *   prepack that builds, a build that starts from an empty dist, and
 *   published dependencies and peers as caret ranges (no workspace: or exact
 *   pins left after packing);
 * - publint --strict (warnings are errors);
 * - attw --profile esm-only (are the types right for ESM and bundler
 *   resolution of every entry point);
 * - readme-check: each README's install line and examples in a fresh project
 *   (scripts/readme-check.mjs).
 *
 * Usage: pnpm release-check [--keep]. CI runs it (.ci/run).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, checkReadmes, printRows, withTmp } from './readme-check.mjs';
import { CheckError, mapLimit, mustRun, packPackages, phaseTimer, run, workspacePackages } from './toolchain/pack.mjs';

const root = path.resolve(import.meta.dirname, '..');
const rootRequire = createRequire(path.join(root, 'package.json'));
const REPO = 'https://github.com/genpt/genpt';
/** The resolutions attw's esm-only profile does not hold against a package (CommonJS require and node10). */
const ATTW_ESM_ONLY_IGNORES = ['node10', 'node16-cjs'];
const { phase, summary } = phaseTimer();

/** The package.json inside a tarball, as npm will publish it. */
async function packedManifest(tarball) {
  const r = await mustRun('tar', 'tar', ['-xzOf', tarball, 'package/package.json']);
  return JSON.parse(r.stdout);
}

/** Problems with a package's own manifest and with the one it packs to. */
function manifestProblems(pkg, packed) {
  const m = pkg.manifest;
  const problems = [];
  const dir = `packages/${pkg.dir}`;
  const repo = m.repository ?? {};
  if (repo.type !== 'git' || repo.url !== `git+${REPO}.git` || repo.directory !== dir) {
    problems.push(`repository must be { type: git, url: git+${REPO}.git, directory: ${dir} }`);
  }
  if (m.homepage !== `${REPO}/tree/main/${dir}#readme`) problems.push(`homepage must be ${REPO}/tree/main/${dir}#readme`);
  if ((m.bugs?.url ?? m.bugs) !== `${REPO}/issues`) problems.push(`bugs must be ${REPO}/issues`);
  if (m.scripts?.prepack !== 'pnpm run build') problems.push('prepack must be "pnpm run build" (what is packed is built from the sources)');
  if (!m.scripts?.build?.startsWith('node ../../scripts/clean-dist.mjs && '))
    problems.push('build must start with node ../../scripts/clean-dist.mjs');
  for (const field of ['dependencies', 'peerDependencies']) {
    for (const [dep, range] of Object.entries(packed[field] ?? {})) {
      if (!/^\^\d/.test(range)) problems.push(`published ${field}.${dep} is ${JSON.stringify(range)}, not a caret range`);
    }
  }
  return problems;
}

async function publintProblems(tarball) {
  const { publint } = await import(pathToFileURL(rootRequire.resolve('publint')).href);
  const { formatMessage } = await import(pathToFileURL(rootRequire.resolve('publint/utils')).href);
  const data = readFileSync(tarball);
  const { messages, pkg } = await publint({
    pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) },
    strict: true,
  });
  // As `publint --strict` exits: errors (warnings included) fail, suggestions are shown.
  const text = (msg) => `${msg.type}: ${formatMessage(msg, pkg, { color: false }) ?? msg.code}`;
  return {
    problems: messages.filter((x) => x.type === 'error').map(text),
    notes: messages.filter((x) => x.type !== 'error').map(text),
  };
}

async function attwProblems(tarball) {
  const cli = path.join(path.dirname(rootRequire.resolve('@arethetypeswrong/cli/package.json')), 'dist', 'index.js');
  const r = await run(process.execPath, [cli, tarball, '--profile', 'esm-only', '--format', 'json', '--no-color'], {
    cwd: root,
    timeout: 120_000,
  });
  let json;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    return { entrypoints: 0, problems: [`attw exit ${r.code}: ${(r.stdout + r.stderr).trim().split('\n').slice(0, 8).join('\n')}`] };
  }
  // The JSON lists every problem; the profile decides which fail (as attw's exit code does).
  const analysis = json.analysis ?? {};
  const entrypoints = Object.keys(analysis.entrypoints ?? {}).length;
  const problems = (analysis.problems ?? [])
    .filter((p) => !ATTW_ESM_ONLY_IGNORES.includes(p.resolutionKind))
    .map((p) => `${p.kind}${p.entrypoint ? ` ${p.entrypoint}` : ''}${p.resolutionKind ? ` (${p.resolutionKind})` : ''}`);
  if (!analysis.types) problems.push('no types found');
  if (r.code !== 0 && problems.length === 0) problems.push(`attw exit ${r.code}`);
  return { entrypoints, problems };
}

async function main(tmp) {
  await build();
  phase('build');
  const packages = workspacePackages(root);
  const packs = path.join(tmp, 'packs');
  mkdirSync(packs);
  const tarballs = await packPackages(root, packages, packs);
  phase('pack');

  const rows = [];
  const notes = [];
  for (const pkg of packages) {
    rows.push([`${pkg.name} manifest`, manifestProblems(pkg, await packedManifest(tarballs.get(pkg.name)))]);
    const pl = await publintProblems(tarballs.get(pkg.name));
    rows.push([`${pkg.name} publint --strict`, pl.problems]);
    for (const n of pl.notes) notes.push(`${pkg.name}: ${n}`);
  }
  phase('manifest+publint');
  const attw = await mapLimit(packages, 2, (pkg) => attwProblems(tarballs.get(pkg.name)));
  for (const [i, pkg] of packages.entries()) {
    rows.push([`${pkg.name} attw --profile esm-only (${attw[i].entrypoints} entry points)`, attw[i].problems]);
  }
  phase('attw');
  const readmeRows = await checkReadmes({ packages, tarballs, tmp });
  phase('readme');

  let ok = printRows(rows);
  console.log('');
  ok = printRows(readmeRows) && ok;
  for (const n of notes) console.log(`note: ${n}`);
  return ok;
}

let ok = false;
try {
  ok = await withTmp('genpt-release-check-', process.argv.includes('--keep'), main);
} catch (e) {
  console.error(e instanceof CheckError ? `release-check: ${e.message}` : e);
}
console.log(`release check ${ok ? 'passed' : 'FAILED'} in ${summary()}`);
process.exit(ok ? 0 : 1);
