/**
 * Table configurations by name. The kernel's golden traces are recorded
 * under named configs (golden/<format>/<config>--<scenario>.json), so those
 * names are the vocabulary: `--config host-l6` builds exactly the table the
 * kernel built for that trace. A config can also come from a JSON file.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { featureBits } from '@genpt/pt-core';
import { goldenDir, goldenIoPgtableDir, type GoldenConfig, type GoldenFormat, type GoldenTrace } from '@genpt/golden';
import { CliError } from './cli-error.js';
import { goldenReplayFormats } from './formats.js';

/** Preferred configs where the first one in name order is not the most telling. */
const PREFERRED: Readonly<Record<string, string>> = {
  // AMD's host table: starts at level 2 and grows its top as VAs get higher.
  amdv1: 'host-l6',
  // The CPU-style 4-level table with a sign-extended upper half.
  x86_64: 'sext-48',
  // SMMUv3 stage 1 with the 4 KiB granule and hardware dirty tracking.
  armv8: 's1-4k-dbm',
  // The non-secure table an SoC driver programs.
  armv7s: 'v7s-32-ns',
};

export interface NamedConfig {
  /** The golden config name, or the file it came from. */
  name: string;
  config: GoldenConfig;
}

/**
 * The traces of a format's configs: the kernel's generic_pt traces, or for a
 * format only io-pgtable traced (armv7s) those of ../golden-iopgtable.
 */
function configFiles(format: string): Map<string, string> {
  let dir = path.join(goldenDir, format);
  const out = new Map<string, string>();
  if (!existsSync(dir) && goldenReplayFormats.get(format)?.configOf !== undefined) dir = path.join(goldenIoPgtableDir, format);
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir).sort()) {
    const m = /^(.+?)--(.+)\.json$/.exec(f);
    if (m === null) continue;
    // The smallest scenario of a config is enough: only its header is read.
    const prev = out.get(m[1]!);
    if (prev === undefined || f.endsWith('--errors.json')) out.set(m[1]!, path.join(dir, f));
  }
  return out;
}

/** A trace's header, its config in genpt's shape (an io-pgtable trace's through its replay format's configOf). */
function loadHeader(file: string): GoldenTrace {
  const t = JSON.parse(readFileSync(file, 'utf8')) as GoldenTrace;
  const configOf = goldenReplayFormats.get(t.format)?.configOf;
  return configOf === undefined ? t : { ...t, config: configOf(t.config) };
}

/** The golden config names of a format whose tables initialise. */
export function configNames(format: string): string[] {
  const out: string[] = [];
  for (const [name, file] of configFiles(format)) if (loadHeader(file).init.err === 0) out.push(name);
  return out;
}

/** Fill in featureBits from the names (and check them) so a hand-written config needs only names. */
export function normaliseConfig(gf: GoldenFormat, raw: unknown, where: string): GoldenConfig {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError(`${where}: a config must be an object`);
  const c = raw as Record<string, unknown>;
  const features = c.features ?? [];
  if (!Array.isArray(features) || !features.every((f) => typeof f === 'string')) {
    throw new CliError(`${where}: config.features must be a list of feature names`);
  }
  let bits: number;
  try {
    bits = featureBits(features, gf.format.featureNames);
  } catch (e) {
    throw new CliError(`${where}: ${(e as Error).message.replace(/^E[A-Z]+: /, '')} for ${gf.name}`);
  }
  if (c.featureBits !== undefined && c.featureBits !== bits) {
    throw new CliError(`${where}: config.featureBits ${String(c.featureBits)} is not the features' bits ${bits}`);
  }
  const config: GoldenConfig = { features, featureBits: bits, hwMaxVaszLg2: 0, hwMaxOaszLg2: 0 };
  for (const k of ['hwMaxVaszLg2', 'hwMaxOaszLg2', 'startingLevel', 'topLevel'] as const) {
    const v = c[k];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 64)
      throw new CliError(`${where}: config.${k} must be an integer 0..64`);
    config[k] = v;
  }
  if (c.tgszLg2 !== undefined) {
    if (c.tgszLg2 !== 12 && c.tgszLg2 !== 14 && c.tgszLg2 !== 16) throw new CliError(`${where}: config.tgszLg2 must be 12, 14 or 16`);
    config.tgszLg2 = c.tgszLg2;
  }
  if (c.cfgPgsizeBitmap !== undefined) {
    const v = c.cfgPgsizeBitmap;
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0)
      throw new CliError(`${where}: config.cfgPgsizeBitmap must be a positive integer`);
    config.cfgPgsizeBitmap = v;
  }
  if (config.hwMaxVaszLg2 === 0) config.hwMaxVaszLg2 = gf.format.maxVaAddressLg2;
  if (config.hwMaxOaszLg2 === 0) config.hwMaxOaszLg2 = gf.format.maxOutputAddressLg2;
  return config;
}

/**
 * The config `name` for a format: a golden config name, a JSON file holding
 * a config object, or (undefined) the format's default.
 */
export function resolveConfig(gf: GoldenFormat, name: string | undefined): NamedConfig {
  const files = configFiles(gf.name);
  if (name === undefined) {
    const pick = PREFERRED[gf.name] !== undefined && files.has(PREFERRED[gf.name]!) ? PREFERRED[gf.name]! : configNames(gf.name)[0];
    if (pick === undefined) throw new CliError(`format ${gf.name} has no golden configs: give one with --config FILE.json`, 'ENOENT');
    return resolveConfig(gf, pick);
  }
  const file = files.get(name);
  if (file !== undefined) return { name, config: loadHeader(file).config };
  if (name.endsWith('.json') || existsSync(name)) {
    if (!existsSync(name)) throw new CliError(`config file ${name} does not exist`, 'ENOENT');
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(name, 'utf8'));
    } catch (e) {
      throw new CliError(`config file ${name}: ${(e as Error).message}`);
    }
    // Accept a trace too: its config is the one wanted.
    const obj = raw as { config?: unknown };
    return { name, config: normaliseConfig(gf, obj.config ?? raw, name) };
  }
  const known = [...files.keys()];
  throw new CliError(
    `format ${gf.name} has no config "${name}"${known.length ? ` (golden configs: ${known.join(', ')})` : ''}; or give a JSON file`,
  );
}
