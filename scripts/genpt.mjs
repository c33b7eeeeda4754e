#!/usr/bin/env node
// `pnpm -s genpt ...`: bring the CLI's build up to date (turbo; a cold build
// takes half a minute, so a terminal sees progress on stderr), then run it
// with the arguments given. stdout is the CLI's alone.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tty = process.stderr.isTTY === true;

function build() {
  return new Promise((resolve) => {
    const child = spawn('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@genpt/cli...', '--output-logs=new-only'], {
      cwd: root,
      env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let built = 0;
    const started = Date.now();
    const onData = (d) => {
      out += d;
      // one line per package turbo actually builds (cache hits print nothing new)
      const n = (out.match(/:build: cache miss/g) ?? []).length;
      if (tty && n > built) {
        built = n;
        process.stderr.write(`\rgenpt: building packages (${n} so far, ${((Date.now() - started) / 1000).toFixed(0)} s)`);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('close', (code) => {
      if (tty && built) process.stderr.write('\n');
      resolve({ code, out });
    });
  });
}

const { code, out } = await build();
if (code !== 0) {
  process.stderr.write(out);
  process.stderr.write('genpt: building the packages failed\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(path.join(root, 'packages/cli/dist/main.js')).href);
process.exitCode = await main(process.argv.slice(2));
