/** Run the built genpt bin as a subprocess. */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const bin = path.resolve(import.meta.dirname, '../dist/bin.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function genpt(args: string[], input?: string): CliResult {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', input, maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
