#!/usr/bin/env node
/**
 * `changeset status` that works in any clone: against the local main branch
 * when there is one (a developer's branch, or CI's clone of main), else
 * origin/main, else HEAD itself (a clone with neither, e.g. one branch
 * fetched alone). Each pending changeset is read and the release plan
 * checked; on a branch, a changed package without a changeset fails.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { baseBranch = 'main' } = JSON.parse(readFileSync(path.join(root, '.changeset', 'config.json'), 'utf8'));
const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
const exists = (ref) => git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).status === 0;
if (git('rev-parse', '--git-dir').status !== 0) {
  console.error('changeset-status: not a git checkout (changesets compares against git history)');
  process.exit(1);
}
const since = [baseBranch, `origin/${baseBranch}`].find(exists) ?? 'HEAD';
console.log(`changeset status --since=${since}`);
const r = spawnSync('pnpm', ['exec', 'changeset', 'status', `--since=${since}`], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
