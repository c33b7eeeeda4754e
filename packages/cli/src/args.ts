/** Argument helpers shared by the commands: numbers, formats, files. */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isPtError, parseU64 } from '@genpt/pt-core';
import type { GoldenFormat } from '@genpt/golden';
import { CliError } from './cli-error.js';
import { formats } from './formats.js';

/** An address or size in hex (0x...) or decimal, < 2^64; a usage error otherwise. */
export function parseAddr(text: string | undefined, what: string): bigint {
  if (text === undefined) throw new CliError(`${what} is required`);
  try {
    return parseU64(text, what);
  } catch (e) {
    if (isPtError(e)) throw new CliError(`${what} "${text}" is not a hex or decimal number below 2^64`, e.code);
    throw e;
  }
}

/** A small non-negative integer option (levels, counts). */
export function parseSmallInt(text: string | undefined, what: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n > max) {
    throw new CliError(`${what} must be an integer 0..${max}, got "${text}"`);
  }
  return n;
}

/** The installed formats, by the names traces use. */
export function formatNames(): string[] {
  return [...formats.keys()];
}

/** Look a format up by name; a usage error naming the installed ones otherwise. */
export function findFormat(name: string): GoldenFormat {
  const gf = formats.get(name);
  if (gf === undefined) {
    throw new CliError(`unknown format "${name}" (installed: ${formatNames().join(', ')})`);
  }
  return gf;
}

/** The format a command uses when none is given. */
export function defaultFormatName(): string {
  return formats.has('amdv1') ? 'amdv1' : formatNames()[0]!;
}

/** Read a text input file, or stdin for "-". A missing file is ENOENT (usage, exit 2). */
export function readInput(file: string, what: string): string {
  if (file === '-') return readFileSync(0, 'utf8');
  if (!existsSync(file)) throw new CliError(`${what} ${file} does not exist`, 'ENOENT');
  if (statSync(file).isDirectory()) throw new CliError(`${what} ${file} is a directory, not a file`, 'EISDIR');
  return readFileSync(file, 'utf8');
}

/** "0x..." */
export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}
