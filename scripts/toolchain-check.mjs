#!/usr/bin/env node
/**
 * Do the published packages work in users' toolchains?
 *
 * Packs pt-core, the two AMD formats, iommu-ops and amd-driver as npm would
 * publish them, installs the tarballs into a fresh project, and runs one AMD
 * IOMMU session (scripts/toolchain/session.js) under node ESM, node CJS
 * require(), tsx in a "type": "commonjs" project, and esbuild bundles
 * (minified and not) in headless Chromium under a CSP without 'unsafe-eval'.
 * Every variant must print the same lines. Also checks that an error thrown
 * inside a per-format slot has a stack naming the TypeScript sources.
 *
 * Needs `pnpm build` first (it builds nothing). tsx, esbuild and
 * playwright-core come from the workspace's own devDependencies, so nothing
 * is downloaded. Usage: pnpm toolchain-check [--keep] (--keep leaves the
 * temporary directory for a look).
 */
import { findChromium, NO_CHROMIUM } from './browser.mjs';
import { CheckError, children, installedGenpt, mustRun, packPackages, phaseTimer, run, workspacePackages } from './toolchain/pack.mjs';
import { createServer } from 'node:http';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const root = path.resolve(import.meta.dirname, '..');
const fixtures = path.join(root, 'scripts', 'toolchain');
const rootRequire = createRequire(path.join(root, 'package.json'));
const PACKAGES = ['pt-core', 'fmt-amdv1', 'fmt-x86-64', 'iommu-ops', 'amd-driver'];
const keep = process.argv.includes('--keep');
const { phase, summary } = phaseTimer();

// What session.js uses, from where a user would import it.
const IMPORTS = [
  ['@genpt/amd-driver', ['createAmdIommuSystem', 'IOMMU_HWPT_ALLOC_PASID', 'IOMMU_READ', 'IOMMU_WRITE']],
  ['@genpt/iommu-ops', ['iommuPtSlot']],
  ['@genpt/pt-core', ['isPtError']],
  ['@genpt/pt-core/internal', ['ptIterSlots']],
];
const CSP = "default-src 'self'; script-src 'self'";
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

function newestMtime(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(path.join(e.parentPath ?? e.path, e.name)).mtimeMs);
  }
  return newest;
}

/**
 * The check packs what `pnpm build` made. A src newer than its dist is only
 * a warning: a build cache may restore an identical dist without touching it.
 */
function requireBuilt() {
  for (const p of PACKAGES) {
    const dir = path.join(root, 'packages', p);
    const index = path.join(dir, 'dist', 'index.js');
    if (!existsSync(index)) throw new CheckError(`packages/${p}/dist/index.js is missing: run pnpm build first`);
    if (newestMtime(path.join(dir, 'src')) > statSync(index).mtimeMs) {
      console.log(`warning: packages/${p}/src is newer than its dist (run pnpm build?)`);
    }
  }
  for (const [p, dir] of [
    ['pt-core', 'iter'],
    ['iommu-ops', 'ops'],
  ]) {
    const slots = readFileSync(path.join(root, 'packages', p, 'dist', 'slots.js'), 'utf8');
    if (!slots.includes(`./${dir}-1/index.js`)) throw new CheckError(`packages/${p}/dist/slots.js lists no slot copies: run pnpm build`);
  }
}

function chromiumPath() {
  const found = findChromium();
  if (found === undefined) throw new CheckError(NO_CHROMIUM);
  return found;
}

/** The session with a header that imports what it uses and defines print(). */
function sessionSource(kind) {
  const body = readFileSync(path.join(fixtures, 'session.js'), 'utf8');
  const esm = IMPORTS.map(([m, names]) => `import { ${names.join(', ')} } from '${m}';`).join('\n');
  const cjs = IMPORTS.map(([m, names]) => `const { ${names.join(', ')} } = require('${m}');`).join('\n');
  const headers = {
    mjs: `${esm}\nconst print = (line) => console.log(line);\n`,
    cjs: `'use strict';\n${cjs}\nconst print = (line) => console.log(line);\n`,
    ts: `${esm}\nconst print = (line: string): void => console.log(line);\n`,
    browser: `${esm}\nconst out = document.getElementById('out');\nconst print = (line) => {\n  out.textContent += line + '\\n';\n  console.log(line);\n};\n`,
  };
  const footer = kind === 'browser' ? "document.body.dataset.done = 'ok';\n" : '';
  return `${headers[kind]}\n${body}${footer}`;
}

const lines = (text) => text.split('\n').filter((l) => l !== '');
/** The first lines of an error or stderr, enough to see where it came from. */
const head = (text, n = 8) => text.trim().split('\n').slice(0, n).join('\n');

/** A static server for dir whose every response carries the CSP. */
function serve(dir) {
  const types = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json' };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const file = path.join(dir, path.normalize(decodeURIComponent(url.pathname)));
    const headers = { 'Content-Security-Policy': CSP, 'Cache-Control': 'no-store' };
    if (file.startsWith(dir + path.sep) && existsSync(file) && statSync(file).isFile()) {
      res.writeHead(200, { ...headers, 'Content-Type': types[path.extname(file)] ?? 'application/octet-stream' });
      res.end(readFileSync(file));
    } else {
      // 204 rather than 404 for the favicon, so the console has no error for it.
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404, headers);
      res.end();
    }
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** Load one page; what it printed, and every CSP violation, error and console error it had. */
async function loadPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${head(e.stack ?? e.message)}`));
  try {
    await page.goto(url);
    await page.waitForSelector('body[data-done]', { timeout: 20_000 });
    // Violation events are queued as tasks: give them a turn before reading.
    await page.waitForTimeout(100);
    const done = await page.getAttribute('body', 'data-done');
    const out = lines((await page.textContent('#out')) ?? '');
    const csp = await page.locator('#csp li').allTextContents();
    if (done !== 'ok') problems.push(`page ended with ${done}`);
    return { out, csp, problems };
  } catch (e) {
    problems.push(String(e.message ?? e).split('\n')[0]);
    return { out: [], csp: [], problems };
  } finally {
    await page.close();
  }
}

/** Check a stack trace names the TypeScript sources, at lines that hold the code that ran. */
function checkMappedStack(result, projectDir) {
  const problems = [];
  if (!result.thrown) return ['no error was thrown'];
  if (result.name !== 'PtCheckError') problems.push(`threw ${result.name}: ${result.message}`);
  const frames = [...result.stack.matchAll(/node_modules\/(@genpt\/[\w-]+)\/(src\/[\w/.-]+\.ts):(\d+):\d+/g)];
  const want = [
    ['@genpt/iommu-ops', 'src/ops/map.ts', 'installLeafRun'], // the slot's map walk calling the format
    ['@genpt/fmt-x86-64', 'src/x86-64.ts', 'ptCheckInstallLeafArgs'], // the format's check
  ];
  for (const [pkg, file, code] of want) {
    const f = frames.find((m) => m[1] === pkg && m[2] === file);
    if (!f) {
      problems.push(`no frame in ${pkg}/${file}`);
      continue;
    }
    const shipped = path.join(projectDir, 'node_modules', pkg, file);
    if (!existsSync(shipped)) {
      problems.push(`${pkg}/${file} is named by the source map but not in the tarball`);
      continue;
    }
    const text = readFileSync(shipped, 'utf8').split('\n')[Number(f[3]) - 1] ?? '';
    if (!text.includes(code)) problems.push(`${pkg}/${file}:${f[3]} is not the call of ${code}: ${text.trim()}`);
  }
  if (problems.length) problems.push(`stack:\n${result.stack}`);
  return problems;
}

/** Without source maps the same frame must be in a slot copy (dist/ops-N), not the shared original. */
function checkRawStack(result) {
  if (!result.thrown) return ['no error was thrown'];
  return /node_modules\/@genpt\/iommu-ops\/dist\/ops-[1-9]\d*\/map\.js:\d+/.test(result.stack)
    ? []
    : [`no frame in a slot copy (dist/ops-N/map.js):\n${result.stack}`];
}

/** Chromium with a fresh profile in tmp; launched at the start, as it needs nothing the other steps make. */
function launchChromium(tmp) {
  const { chromium } = rootRequire('playwright-core');
  return chromium.launchPersistentContext(path.join(tmp, 'chromium-profile'), {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
    // This script's own handlers close Chromium before removing its profile.
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
}

async function main(tmp, browser) {
  requireBuilt();
  browser.context = launchChromium(tmp);
  browser.context.catch(() => {}); // awaited below; not an unhandled rejection meanwhile
  const packs = path.join(tmp, 'packs');
  const project = path.join(tmp, 'project');
  mkdirSync(packs);
  mkdirSync(project);

  // 1. Pack as published: pnpm turns workspace:^ into real ranges (what
  // the build made: prepack's rebuild is not run).
  const packed = await packPackages(
    root,
    workspacePackages(root).filter((p) => PACKAGES.includes(p.dir)),
    packs,
  );
  const tarballs = [...packed.values()];
  phase('pack');

  // 2. A fresh project as `npm init -y` makes it, the tarballs installed
  // offline (they need nothing else), npm's cache and logs kept in tmp.
  writeFileSync(
    path.join(project, 'package.json'),
    `${JSON.stringify({ name: 'genpt-toolchain-check', version: '1.0.0', private: true, type: 'commonjs' }, null, 2)}\n`,
  );
  await mustRun(
    'npm install of the tarballs',
    'npm',
    [
      'install',
      '--offline',
      '--no-audit',
      '--no-fund',
      '--cache',
      path.join(tmp, 'npm-cache'),
      '--logs-dir',
      path.join(tmp, 'npm-logs'),
      ...tarballs,
    ],
    { cwd: project, timeout: 120_000 },
  );
  const workspaceRanges = installedGenpt(project).workspaceRanges;
  if (workspaceRanges.length) throw new CheckError(`the packed ${workspaceRanges.join(', ')} still has a workspace: range`);
  phase('install');

  for (const kind of ['mjs', 'cjs', 'ts']) writeFileSync(path.join(project, `session.${kind}`), sessionSource(kind));
  writeFileSync(path.join(project, 'browser.mjs'), sessionSource('browser'));
  copyFileSync(path.join(fixtures, 'stack.mjs'), path.join(project, 'stack.mjs'));

  // 3. The node variants, in parallel. tsx's cache off: compile afresh, leave nothing behind.
  const node = process.execPath;
  const tsxCli = path.join(path.dirname(rootRequire.resolve('tsx/package.json')), 'dist', 'cli.mjs');
  const env = { ...process.env, TSX_DISABLE_CACHE: '1', NODE_OPTIONS: '' };
  const opts = { cwd: project, env };
  const nodeRuns = Promise.all([
    run(node, ['session.mjs'], opts),
    run(node, ['session.cjs'], opts),
    run(node, [tsxCli, 'session.ts'], opts),
    run(node, ['--enable-source-maps', 'stack.mjs'], opts),
    run(node, ['stack.mjs'], opts),
  ]);

  // 4. esbuild bundles for the browser, served under the CSP to Chromium.
  const esbuild = rootRequire('esbuild');
  const www = path.join(tmp, 'www');
  const bundles = [
    ['min', '--bundle --minify --keep-names --format=esm --platform=browser', { minify: true }],
    ['plain', '--bundle --keep-names --format=esm --platform=browser', {}],
  ];
  const bundleErrors = {};
  for (const [name, , extra] of bundles) {
    try {
      await esbuild.build({
        entryPoints: [path.join(project, 'browser.mjs')],
        outfile: path.join(www, name, 'app.js'),
        absWorkingDir: project,
        bundle: true,
        keepNames: true,
        format: 'esm',
        platform: 'browser',
        logLevel: 'silent',
        ...extra,
      });
    } catch (e) {
      bundleErrors[name] = `esbuild: ${head(e.message)}`;
    }
  }
  for (const dir of ['min', 'plain', 'probe']) {
    mkdirSync(path.join(www, dir), { recursive: true });
    copyFileSync(path.join(fixtures, 'page.html'), path.join(www, dir, 'page.html'));
    copyFileSync(path.join(fixtures, 'report.js'), path.join(www, dir, 'report.js'));
  }
  copyFileSync(path.join(fixtures, 'probe.js'), path.join(www, 'probe', 'app.js'));
  phase('bundle');

  const server = await serve(www);
  const base = `http://127.0.0.1:${server.address().port}`;
  const pages = {};
  const failedPage = (problem) => ({ out: [], csp: [], problems: [problem] });
  try {
    const context = await browser.context.catch((e) => e);
    await Promise.all(
      ['probe', 'min', 'plain'].map(async (dir) => {
        if (bundleErrors[dir]) pages[dir] = failedPage(bundleErrors[dir]);
        else if (context instanceof Error) pages[dir] = failedPage(`Chromium: ${head(context.message, 3)}`);
        else pages[dir] = await loadPage(context, `${base}/${dir}/page.html`);
      }),
    );
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  phase('chromium');

  // 5. Compare. The node ESM run is the reference.
  const [esm, cjs, tsx, stackMapped, stackRaw] = await nodeRuns;
  phase('node runs (rest)');
  const reference = esm.code === 0 ? lines(esm.stdout) : [];
  const rows = [];
  const sameAsReference = (out) => {
    if (reference.length === 0) return ['no reference output (node ESM failed)'];
    for (let i = 0; i < Math.max(out.length, reference.length); i++) {
      if (out[i] !== reference[i]) return [`line ${i + 1}: expected ${JSON.stringify(reference[i])}, got ${JSON.stringify(out[i])}`];
    }
    return [];
  };
  const nodeRow = (label, r) => {
    const problems = r.code === 0 ? sameAsReference(lines(r.stdout)) : [`exit ${r.code}: ${head(r.stderr)}`];
    rows.push([label, problems]);
  };
  nodeRow('node ESM import (session.mjs)', esm);
  nodeRow('node CJS require() (session.cjs)', cjs);
  nodeRow('tsx session.ts, "type": "commonjs"', tsx);
  for (const [name, flags] of bundles) {
    const p = pages[name];
    const problems = [...p.problems, ...p.csp.map((v) => `CSP violation: ${v}`), ...sameAsReference(p.out)];
    rows.push([`esbuild ${flags}, Chromium + CSP`, problems]);
  }
  // The control: this page must be refused eval and report it, else the CSP rows prove nothing.
  const probe = pages.probe;
  rows.push([
    'CSP control: new Function refused and reported',
    [
      ...(probe.out[0] === 'new Function blocked: true' ? [] : [`page printed ${JSON.stringify(probe.out)}`]),
      ...(probe.csp.some((v) => v.startsWith('script-src')) ? [] : ['no securitypolicyviolation event']),
    ],
  ]);
  const parsed = (r) => {
    try {
      return r.code === 0 ? JSON.parse(r.stdout) : null;
    } catch {
      return null;
    }
  };
  const mapped = parsed(stackMapped);
  const raw = parsed(stackRaw);
  rows.push([
    'stack from a slot names src/*.ts (--enable-source-maps)',
    mapped ? checkMappedStack(mapped, project) : [`exit ${stackMapped.code}: ${stackMapped.stdout}${stackMapped.stderr}`],
  ]);
  rows.push(['same stack without source maps is in dist/ops-N', raw ? checkRawStack(raw) : [`exit ${stackRaw.code}: ${stackRaw.stderr}`]]);

  console.log(`session output (${reference.length} lines, node ESM):`);
  for (const l of reference) console.log(`  ${l}`);
  console.log('');
  const width = Math.max(...rows.map(([label]) => label.length));
  for (const [label, problems] of rows) {
    console.log(`  ${label.padEnd(width)}  ${problems.length ? 'FAILED' : 'ok'}`);
    for (const p of problems) console.log(`      ${p.replaceAll('\n', '\n      ')}`);
  }
  return rows.every(([, problems]) => problems.length === 0);
}

const tmp = mkdtempSync(path.join(tmpdir(), 'genpt-toolchain-'));
const browser = { context: null };
let cleaning = null;
/** Stop what this check started, Chromium first (its profile is in tmp), then remove tmp; once. */
function cleanup() {
  cleaning ??= (async () => {
    for (const child of children) child.kill('SIGKILL');
    await (await browser.context?.catch(() => null))?.close().catch(() => {});
    if (keep) console.log(`kept ${tmp}`);
    // Retries: a Chromium stopped mid-launch may still be writing its profile.
    else rmSync(tmp, { recursive: true, force: true, maxRetries: 10 });
  })();
  return cleaning;
}
let interrupted = false;
for (const [sig, num] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
  ['SIGHUP', 1],
]) {
  process.on(sig, () => {
    interrupted = true;
    console.log(`toolchain check: ${sig}, cleaning up`);
    cleanup().finally(() => process.exit(128 + num));
  });
}
let ok = false;
try {
  ok = await main(tmp, browser);
} catch (e) {
  if (!interrupted) console.error(e instanceof CheckError ? `toolchain-check: ${e.message}` : e);
} finally {
  await cleanup();
}
if (!interrupted) {
  const took = summary();
  console.log(`toolchain check ${ok ? 'passed' : 'FAILED'} in ${took}`);
  process.exit(ok ? 0 : 1);
}
