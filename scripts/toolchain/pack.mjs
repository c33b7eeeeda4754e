/**
 * Packing and installing the workspace's packages as a user gets them,
 * shared by toolchain-check, readme-check and release-check.
 *
 * - `packPackages` packs with `pnpm pack` (workspace:^ becomes ^x.y.z, as
 *   published) without running prepack: the checks pack what the turbo build
 *   made, so they cost a second instead of a rebuild of every package.
 * - `installTarballs` installs into a scratch project with npm: the @genpt
 *   packages only from the tarballs (the named ones directly, every other
 *   one through `overrides`, so npm never asks the registry for @genpt/*),
 *   anything else from the registry through a cache kept under the
 *   workspace's node_modules/.cache.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export class CheckError extends Error {}

/** Children still running, for a check's cleanup to kill before removing its temporary directory. */
export const children = new Set();

/** Run a command; resolves with its output whatever the exit status. */
export function run(cmd, args, opts = {}) {
  const { timeout = 60_000, ...spawnOpts } = opts;
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...spawnOpts });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeout} ms)`;
      child.kill('SIGKILL');
    }, timeout);
    child.on('error', (e) => {
      clearTimeout(timer);
      children.delete(child);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

export async function mustRun(what, cmd, args, opts) {
  const r = await run(cmd, args, opts);
  if (r.code !== 0) throw new CheckError(`${what} failed (exit ${r.code}):\n${r.stdout}${r.stderr}`);
  return r;
}

/** Run fn over items, at most `limit` at a time; results in the items' order. */
export async function mapLimit(items, limit, fn) {
  const results = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** The workspace's publishable packages: { dir (under packages/), name, version, manifest }. */
export function workspacePackages(root) {
  const out = [];
  for (const dir of readdirSync(path.join(root, 'packages')).sort()) {
    let manifest;
    try {
      manifest = JSON.parse(readFileSync(path.join(root, 'packages', dir, 'package.json'), 'utf8'));
    } catch {
      continue;
    }
    if (manifest.private) continue;
    out.push({ dir, name: manifest.name, version: manifest.version, manifest });
  }
  return out;
}

/** The file name `pnpm pack` gives a package's tarball. */
export function tarballName(name, version) {
  return `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`;
}

/**
 * Pack the packages (workspace package objects) into dest; returns
 * Map name -> tarball path. Needs a build first (prepack is not run).
 */
export async function packPackages(root, packages, dest) {
  const filters = packages.flatMap((p) => ['--filter', p.name]);
  await mustRun(
    'pnpm pack',
    'pnpm',
    ['-r', '--config.ignore-scripts=true', ...filters, 'pack', '--pack-destination', dest, '--workspace-concurrency', 'Infinity'],
    { cwd: root, timeout: 120_000 },
  );
  const made = new Set(readdirSync(dest));
  const tarballs = new Map();
  for (const p of packages) {
    const file = tarballName(p.name, p.version);
    if (!made.has(file)) throw new CheckError(`pnpm pack made no ${file} (made: ${[...made].join(', ')})`);
    tarballs.set(p.name, path.join(dest, file));
  }
  return tarballs;
}

/** The @genpt packages `names` need at run time (dependencies and peers, not optional ones), themselves included. */
export function genptClosure(packages, names) {
  const byName = new Map(packages.map((p) => [p.name, p.manifest]));
  const seen = new Set();
  const visit = (n) => {
    if (seen.has(n) || !byName.has(n)) return;
    seen.add(n);
    const m = byName.get(n);
    const optional = m.peerDependenciesMeta ?? {};
    for (const d of Object.keys(m.dependencies ?? {})) visit(d);
    for (const d of Object.keys(m.peerDependencies ?? {})) if (!optional[d]?.optional) visit(d);
  };
  for (const n of names) visit(n);
  return [...seen].sort();
}

/** npm's cache for the scratch installs: kept between runs, inside the workspace. */
export function npmCache(root) {
  return path.join(root, 'node_modules', '.cache', 'genpt-scratch-npm');
}

/**
 * A fresh project as `npm init -y` makes it (plus `type`), then
 * `npm install <args>` with every @genpt name in args replaced by its
 * tarball. @genpt packages not named come from their tarballs through
 * `overrides`. `offline`: nothing may come from the registry.
 */
export async function installTarballs(project, { tarballs, args, type = 'module', offline = false, cache, logs, timeout = 180_000 }) {
  const named = new Set(args.filter((a) => tarballs.has(a)));
  const overrides = {};
  for (const [name, file] of tarballs) if (!named.has(name)) overrides[name] = `file:${file}`;
  const manifest = {
    name: path.basename(project),
    version: '1.0.0',
    description: '',
    main: 'index.js',
    type,
    scripts: { test: 'echo "Error: no test specified" && exit 1' },
    keywords: [],
    author: '',
    license: 'ISC',
    private: true,
    overrides,
  };
  writeFileSync(path.join(project, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  const npmArgs = [
    'install',
    offline ? '--offline' : '--prefer-offline',
    '--no-audit',
    '--no-fund',
    '--no-update-notifier',
    '--cache',
    cache,
    '--logs-dir',
    logs,
    ...args.map((a) => tarballs.get(a) ?? a),
  ];
  return mustRun(`npm install ${args.join(' ')}`, 'npm', npmArgs, { cwd: project, timeout });
}

/** The @genpt packages a scratch project's node_modules holds, and any that still has a workspace: range. */
export function installedGenpt(project) {
  const dir = path.join(project, 'node_modules', '@genpt');
  let names = [];
  try {
    names = readdirSync(dir).sort();
  } catch {}
  const workspaceRanges = names.filter((n) => readFileSync(path.join(dir, n, 'package.json'), 'utf8').includes('"workspace:'));
  return { names: names.map((n) => `@genpt/${n}`), workspaceRanges: workspaceRanges.map((n) => `@genpt/${n}`) };
}

/** Seconds per phase since the last, and in all, for a check's last line (the checks should stay fast). */
export function phaseTimer() {
  const started = performance.now();
  const phases = [];
  let phaseStart = started;
  return {
    phase(name) {
      const now = performance.now();
      phases.push(`${name} ${((now - phaseStart) / 1000).toFixed(1)}`);
      phaseStart = now;
    },
    /** "12.3 s (pack 1.0, ...)". */
    summary() {
      const all = `${((performance.now() - started) / 1000).toFixed(1)} s`;
      return phases.length ? `${all} (${phases.join(', ')})` : all;
    },
  };
}
