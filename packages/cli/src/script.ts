/**
 * Op scripts: the golden schema's step vocabulary without results. A script
 * is a JSON list of steps, or an object { format?, config?, name?, steps };
 * a whole golden trace is a script too (its results and driver callbacks
 * are ignored and produced afresh). Values are checked here, so a bad script
 * is a usage error naming the step, never a crash inside an op.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_PROT_MASK,
  IOMMU_READ,
  IOMMU_WRITE,
  isPtError,
  parseU64,
} from '@genpt/pt-core';
import type { GoldenStep } from '@genpt/golden';
import { CliError } from './cli-error.js';

/** An op step as GoldenSession runs it (never a driver callback). */
export type OpStep = Exclude<GoldenStep, { op: 'change_top' | 'iotlb_sync' }>;

export interface Script {
  name?: string;
  format?: string;
  /** A golden config name or a config object. */
  config?: string | object;
  steps: OpStep[];
}

export const PROT_NAMES: ReadonlyArray<readonly [string, number]> = [
  ['READ', IOMMU_READ],
  ['WRITE', IOMMU_WRITE],
  ['CACHE', IOMMU_CACHE],
  ['NOEXEC', IOMMU_NOEXEC],
  ['MMIO', IOMMU_MMIO],
  ['PRIV', IOMMU_PRIV],
];

const FIELDS: Record<OpStep['op'], { u64: string[]; int?: string[] }> = {
  map: { u64: ['iova', 'paddr', 'len'], int: ['prot'] },
  unmap: { u64: ['iova', 'len'] },
  iova_to_phys: { u64: ['iova'] },
  set_dirty: { u64: ['iova'] },
  cut: { u64: ['iova'] },
  split: { u64: ['iova', 'len'], int: ['maxPgszLg2'] },
  collapse: { u64: ['iova', 'len'] },
  read_and_clear_dirty: { u64: ['iova', 'size'], int: ['flags'] },
  dump: { u64: [] },
  deinit: { u64: [] },
  preserve: { u64: [] },
  restore: { u64: [] },
};

/**
 * What genpt run adds to the KHO steps, for files: preserve's `file` (write
 * the descriptor there), restore's `descriptor` as a file name and `image`
 * (restore from a raw memory image, `genpt dump --image`, in fresh memory).
 * Without `descriptor`, restore uses the run's last preserve.
 */
export interface KhoFiles {
  file?: string;
  image?: string;
  descriptorFile?: string;
}

/** The op names a script may use. */
export const OPS = Object.keys(FIELDS) as Array<OpStep['op']>;

/** prot as a number 0..63 or names: "READ|WRITE", "rw", "r,noexec". */
export function parseProt(v: unknown, where: string): number {
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 0 && v <= IOMMU_PROT_MASK) return v;
    throw new CliError(`${where}: prot ${v} is not 0..${IOMMU_PROT_MASK}`);
  }
  if (typeof v !== 'string') throw new CliError(`${where}: prot must be a number or names like "READ|WRITE"`);
  let prot = 0;
  for (const part of v.split(/[|,+\s]+/).filter(Boolean)) {
    const up = part.toUpperCase();
    const named = PROT_NAMES.find(([n]) => n === up);
    if (named) prot |= named[1];
    else if (/^[RW]+$/.test(up)) prot |= (up.includes('R') ? IOMMU_READ : 0) | (up.includes('W') ? IOMMU_WRITE : 0);
    else throw new CliError(`${where}: prot "${part}" is not one of ${PROT_NAMES.map(([n]) => n).join(', ')}, r, w, rw`);
  }
  return prot;
}

export function u64Field(v: unknown, where: string, name: string): string {
  if (typeof v === 'number') {
    if (Number.isSafeInteger(v) && v >= 0) return '0x' + v.toString(16);
    throw new CliError(`${where}: ${name} ${v} is not a non-negative safe integer (use a "0x..." string)`);
  }
  if (typeof v !== 'string') throw new CliError(`${where}: ${name} is required (hex "0x..." or decimal)`);
  try {
    return '0x' + parseU64(v, name).toString(16);
  } catch (e) {
    if (isPtError(e)) throw new CliError(`${where}: ${name} "${v}" is not a hex or decimal number below 2^64`, e.code);
    throw e;
  }
}

/** Check one step and normalise its numbers to the schema's hex strings. */
export function parseStep(raw: unknown, where: string): OpStep | null {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError(`${where}: a step must be an object`);
  const s = raw as Record<string, unknown>;
  if (s.op === 'change_top' || s.op === 'iotlb_sync') return null;
  if (typeof s.op !== 'string' || !Object.hasOwn(FIELDS, s.op)) {
    throw new CliError(`${where}: op ${JSON.stringify(s.op)} is not one of ${OPS.join(', ')}`);
  }
  const op = s.op as OpStep['op'];
  const out: Record<string, unknown> = { op };
  for (const f of FIELDS[op].u64) out[f] = u64Field(s[f], where, f);
  if (op === 'map') out.prot = parseProt(s.prot, where);
  if (op === 'split') {
    const m = s.maxPgszLg2;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 63)
      throw new CliError(`${where}: maxPgszLg2 must be an integer 0..63 (log2 of the largest page size to keep)`);
    out.maxPgszLg2 = m;
  }
  if (op === 'read_and_clear_dirty') {
    const flags = s.flags ?? 0;
    if (flags !== 0 && flags !== 1) throw new CliError(`${where}: flags must be 0 or 1 (IOMMU_DIRTY_NO_CLEAR)`);
    out.flags = flags;
  }
  const extraFields: string[] = [];
  if (op === 'preserve' && s.file !== undefined) {
    if (typeof s.file !== 'string' || s.file === '') throw new CliError(`${where}: preserve's file must be a file name`);
    out.file = s.file;
    extraFields.push('file');
  }
  if (op === 'restore') {
    const d = s.descriptor;
    if (typeof d === 'string') out.descriptorFile = d;
    else if (typeof d === 'object' && d !== null && !Array.isArray(d)) out.descriptor = d;
    else if (d !== undefined) throw new CliError(`${where}: restore's descriptor must be a descriptor object or a file name`);
    if (s.image !== undefined) {
      if (typeof s.image !== 'string' || s.image === '') throw new CliError(`${where}: restore's image must be a file name`);
      out.image = s.image;
    }
    extraFields.push('descriptor', 'image');
  }
  const known = new Set(['op', 'result', ...FIELDS[op].u64, ...(FIELDS[op].int ?? []), ...extraFields]);
  const extra = Object.keys(s).filter((k) => !known.has(k));
  if (extra.length) throw new CliError(`${where}: ${op} has no field ${extra.map((k) => `"${k}"`).join(', ')}`);
  return out as OpStep;
}

/** A script's JSON as an object with a steps list (a bare list is the steps). */
export function parseScriptJson(text: string, source: string): Record<string, unknown> & { steps: unknown[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CliError(`${source}: not JSON: ${(e as Error).message}`);
  }
  const obj = (Array.isArray(raw) ? { steps: raw } : raw) as Record<string, unknown>;
  if (typeof obj !== 'object' || obj === null || !Array.isArray(obj.steps)) {
    throw new CliError(`${source}: a script is a list of steps or an object with "steps"`);
  }
  return obj as Record<string, unknown> & { steps: unknown[] };
}

/** Parse a script's JSON text. */
export function parseScript(text: string, source: string): Script {
  const obj = parseScriptJson(text, source);
  if (obj.machine !== undefined) {
    throw new CliError(`${source}: a "machine" script runs with genpt run (it prints the table at the end)`);
  }
  const script: Script = { steps: [] };
  if (obj.name !== undefined) {
    if (typeof obj.name !== 'string') throw new CliError(`${source}: name must be a string`);
    script.name = obj.name;
  }
  if (obj.format !== undefined) {
    if (typeof obj.format !== 'string') throw new CliError(`${source}: format must be a string`);
    script.format = obj.format;
  }
  if (obj.config !== undefined) {
    if (typeof obj.config !== 'string' && (typeof obj.config !== 'object' || obj.config === null)) {
      throw new CliError(`${source}: config must be a golden config name or an object`);
    }
    script.config = obj.config;
  }
  obj.steps.forEach((s, i) => {
    const step = parseStep(s, `${source} step ${i}`);
    if (step !== null) script.steps.push(step);
  });
  return script;
}
