#!/usr/bin/env node
/**
 * `changeset status` that works in any clone.
 *
 * 1. Every pending changeset is read and the release plan assembled, with
 *    no git involved: a changeset naming a package that does not exist, or
 *    a bump that is not one, fails here wherever the check runs.
 * 2. `changeset status --since=<base>`: a package changed since the base
 *    with no changeset added since then fails. The base is the local main
 *    branch (.changeset/config.json's baseBranch) when there is one, else
 *    origin/main; a clone with neither (one branch fetched alone) skips this
 *    step and says so. On main itself nothing has changed since main, so
 *    only step 1 can fail there.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const { baseBranch = 'main' } = JSON.parse(readFileSync(path.join(root, '.changeset', 'config.json'), 'utf8'));

// 1. The changesets the CLI depends on, from its own dependencies.
const cliRequire = createRequire(createRequire(path.join(root, 'package.json')).resolve('@changesets/cli/package.json'));
const getReleasePlan = cliRequire('@changesets/get-release-plan').default;
let plan;
try {
  plan = await getReleasePlan(root);
} catch (e) {
  console.error(`changeset-status: the pending changesets do not make a release plan: ${e.message}`);
  process.exit(1);
}
const bumps = plan.releases.filter((r) => r.type !== 'none').map((r) => `${r.name} ${r.oldVersion} -> ${r.newVersion} (${r.type})`);
console.log(`${plan.changesets.length} pending changeset(s); releases:${bumps.length ? `\n  ${bumps.join('\n  ')}` : ' none'}`);

// 2. Changed packages against the base branch.
const git = (...args) => spawnSync('git', args, { cwd: root, encoding: 'utf8' });
const exists = (ref) => git('rev-parse', '--verify', '--quiet', `${ref}^{commit}`).status === 0;
const since = [baseBranch, `origin/${baseBranch}`].find(exists);
if (since === undefined) {
  console.log(`changeset-status: no ${baseBranch} or origin/${baseBranch} in this clone: changed packages not compared`);
  process.exit(0);
}
console.log(`changeset status --since=${since}`);
const r = spawnSync('pnpm', ['exec', 'changeset', 'status', `--since=${since}`], { cwd: root, stdio: 'inherit' });
process.exit(r.status ?? 1);
