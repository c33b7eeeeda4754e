#!/usr/bin/env node
// `pnpm genpt ...`: bring the CLI's build up to date (turbo; cached builds
// take a moment), then run it with the arguments given.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawnSync('pnpm', ['exec', 'turbo', 'run', 'build', '--filter=@genpt/cli...', '--output-logs=errors-only'], {
  cwd: root,
  encoding: 'utf8',
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1' },
});
if (build.status !== 0) {
  process.stderr.write(build.stdout + build.stderr);
  process.stderr.write('genpt: building the packages failed\n');
  process.exit(1);
}
const { main } = await import(pathToFileURL(path.join(root, 'packages/cli/dist/main.js')).href);
process.exitCode = await main(process.argv.slice(2));
