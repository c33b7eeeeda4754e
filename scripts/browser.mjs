#!/usr/bin/env node
/**
 * The Chromium the tests drive (playwright-core; a test tool's own browser
 * download does not work on machines like CI's). `findChromium()` looks for
 * GENPT_CHROMIUM, then Chromium or Chrome on PATH and in the usual places.
 *
 * `node scripts/browser.mjs --ensure` (the root postinstall): when none is
 * found on a Debian/Ubuntu machine where apt can run (root, or sudo without a
 * password), install Debian's `chromium`; otherwise say in one line what to
 * do. It never fails the install. GENPT_NO_BROWSER=1 skips it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const NAMES = ['chromium', 'chromium-browser', 'google-chrome-stable', 'google-chrome'];
const PLACES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/snap/bin/chromium', '/usr/bin/google-chrome'];

function onPath(name) {
  const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Path of a usable Chromium or Chrome, or undefined. */
export function findChromium() {
  const env = process.env.GENPT_CHROMIUM;
  if (env) return existsSync(env) ? env : undefined;
  for (const n of NAMES) {
    const p = onPath(n);
    if (p) return p;
  }
  return PLACES.find((p) => existsSync(p));
}

/** What to tell a user who has none. */
export const NO_CHROMIUM =
  'genpt: no Chromium found; the HTML dump test needs one: `sudo apt-get install chromium` (Debian/Ubuntu), or set GENPT_CHROMIUM=/path/to/chrome';

function canApt() {
  if (!onPath('apt-get')) return undefined;
  if (process.getuid?.() === 0) return [];
  return spawnSync('sudo', ['-n', 'true']).status === 0 ? ['sudo', '-n'] : undefined;
}

function ensure() {
  if (process.env.GENPT_NO_BROWSER === '1' || findChromium()) return;
  const prefix = canApt();
  if (prefix === undefined) {
    process.stderr.write(`${NO_CHROMIUM}\n`);
    return;
  }
  process.stderr.write("genpt: installing Debian's chromium for the HTML dump test (GENPT_NO_BROWSER=1 skips this)\n");
  const run = (args) => {
    const [cmd, ...rest] = [...prefix, ...args];
    execFileSync(cmd, rest, { stdio: ['ignore', 'ignore', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  };
  try {
    run(['apt-get', 'update', '-qq']);
    run(['apt-get', 'install', '-y', '-qq', 'chromium']);
  } catch {
    // Ubuntu names it chromium-browser
    try {
      run(['apt-get', 'install', '-y', '-qq', 'chromium-browser']);
    } catch {
      /* reported below */
    }
  }
  if (!findChromium()) process.stderr.write(`${NO_CHROMIUM}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv.includes('--ensure')) ensure();
