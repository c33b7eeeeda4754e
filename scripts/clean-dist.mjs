#!/usr/bin/env node
/**
 * Remove a package's dist/ before its build, so what is packed and published
 * is exactly what this build made: no module, declaration or slot copy left
 * over from an earlier build of a source file that is gone.
 *
 * Usage (from a package's build script): node ../../scripts/clean-dist.mjs
 * (the package directory is the working directory, as npm and pnpm run it).
 */
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';

const pkgDir = path.resolve(process.argv[2] ?? '.');
if (!existsSync(path.join(pkgDir, 'package.json'))) {
  process.stderr.write(`clean-dist: ${pkgDir} is not a package directory\n`);
  process.exit(2);
}
rmSync(path.join(pkgDir, 'dist'), { recursive: true, force: true });
