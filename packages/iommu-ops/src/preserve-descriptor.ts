/**
 * The descriptor of a preserved table (the shape of the 2026 KHO patches:
 * the top table and level, and every table page), plain JSON so it can be
 * handed across a kexec, a process or a snapshot file. Made by
 * PtIommu.preserve(), consumed by PtIommu.restore(), which checks its shape
 * here before looking at any memory.
 */
import { PtError, type AnyPtFormat } from '@genpt/pt-core';

export const PT_PRESERVE_KIND = 'genpt-preserve/1';

/** One table page of a preserved table. */
export interface PtPreservedTable {
  /** Physical address of the block. */
  pa: number;
  /** The table's level (the top's for the top). */
  level: number;
  /** lg2 of the block's bytes (at least 12; a top sized for growth can be larger). */
  sizeLg2: number;
}

export interface PtPreserveDescriptor {
  kind: typeof PT_PRESERVE_KIND;
  /** The format's name (fmt.name). */
  format: string;
  /** The config the table was made with (what init was given). */
  config: Record<string, number>;
  topLevel: number;
  topPa: number;
  /** The table memory's first PA: where an image of it (`genpt dump --image`) starts. */
  basePa: number;
  /** Every table page, the top first, in walk order (pre-order by index). */
  tables: PtPreservedTable[];
}

function bad(fmt: AnyPtFormat, what: string): PtError {
  return new PtError('EINVAL', `${fmt.name} restore: ${what}`);
}

function isIntIn(v: unknown, min: number, max: number): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** The descriptor's shape (types, ranges, the format's name); EINVAL naming the field. */
export function checkPreserveDescriptor(fmt: AnyPtFormat, d: unknown): PtPreserveDescriptor {
  if (typeof d !== 'object' || d === null) throw bad(fmt, 'descriptor must be an object');
  const o = d as Record<string, unknown>;
  if (o.kind !== PT_PRESERVE_KIND) throw bad(fmt, `descriptor.kind must be "${PT_PRESERVE_KIND}"`);
  if (o.format !== fmt.name) throw bad(fmt, `descriptor.format "${String(o.format)}" is not ${fmt.name} (a table of another format)`);
  const cfg = o.config;
  if (typeof cfg !== 'object' || cfg === null || Array.isArray(cfg)) throw bad(fmt, 'descriptor.config must be an object');
  for (const [k, v] of Object.entries(cfg)) {
    if (typeof v !== 'number') throw bad(fmt, `descriptor.config.${k} must be a number`);
  }
  if (!isIntIn(o.topLevel, 0, fmt.maxTopLevel)) throw bad(fmt, `descriptor.topLevel must be an integer 0..${fmt.maxTopLevel}`);
  for (const k of ['topPa', 'basePa'] as const) {
    if (!isIntIn(o[k], 0, Number.MAX_SAFE_INTEGER)) throw bad(fmt, `descriptor.${k} must be a safe non-negative integer`);
  }
  if (!Array.isArray(o.tables) || o.tables.length === 0) throw bad(fmt, 'descriptor.tables must be a non-empty array');
  o.tables.forEach((e: unknown, i: number) => {
    const x = e as Record<string, unknown> | null;
    if (typeof x !== 'object' || x === null) throw bad(fmt, `descriptor.tables[${i}] must be an object`);
    if (!isIntIn(x.pa, 0, Number.MAX_SAFE_INTEGER)) throw bad(fmt, `descriptor.tables[${i}].pa must be a safe non-negative integer`);
    if (!isIntIn(x.level, 0, fmt.maxTopLevel)) throw bad(fmt, `descriptor.tables[${i}].level must be an integer 0..${fmt.maxTopLevel}`);
    if (!isIntIn(x.sizeLg2, 12, 31)) throw bad(fmt, `descriptor.tables[${i}].sizeLg2 must be an integer 12..31`);
  });
  return d as PtPreserveDescriptor;
}
