/**
 * A structured dump of a table: every table in depth-first pre-order from the
 * top (a table, then its lower tables by index) with every non-zero item.
 * What the golden traces' "dump" records, and what debugfs-style printers
 * and viewers build on. Cold path: it calls into the format directly.
 */
import {
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtError,
  PtState,
  PtWriteAttrs,
  U64Pair,
  ptAllRange,
  ptIterFirst,
  ptTablePointerOk,
  u64ToBigInt,
  type PtCommon,
} from '@genpt/pt-core';
import type { PtIommu } from './pt-iommu.js';

export type DumpKind = 'L' | 'T' | 'E';

export interface DumpEntry {
  index: number;
  /** The item exactly as stored. */
  raw: bigint;
  /** L = leaf, T = table pointer, E = non-zero but not present. */
  kind: DumpKind;
  /** raw with a table pointer's address field cleared (independent of allocation). */
  canonical: bigint;
  /** Leaves: the entry's OA (start of a contiguous entry) and its size. */
  oa?: bigint;
  sizeLg2?: number;
  /** Table pointers: the lower table's PA. */
  tablePa?: number;
}

export interface DumpTable {
  level: number;
  /** Indexes from the top table down to this one ([] for the top). */
  path: number[];
  /** VA of index 0: the parent's VA plus index << item size (no sign extension). */
  va: bigint;
  pa: number;
  /** Items this table decodes. */
  numItems: number;
  itemLg2sz: number;
  entries: DumpEntry[];
}

export interface TableDump {
  format: string;
  topLevel: number;
  tables: DumpTable[];
}

const masks = new WeakMap<PtCommon, bigint>();

/** The table pointer entry (level 1, no attributes) the format writes for a table at `pa`. */
export function tablePointerEntry(common: PtCommon, pa: number): bigint {
  const pts = new PtState(ptAllRange(common));
  pts.words = new Int32Array(2);
  pts.base = 0;
  pts.level = 1;
  common.fmt.installTable(pts, pa, new PtWriteAttrs());
  return u64ToBigInt(pts.words[1]!, pts.words[0]!);
}

/**
 * The bits a format uses for a table pointer's address, found by encoding
 * the lowest and the highest table address and comparing.
 */
export function tableAddressMask(common: PtCommon): bigint {
  const fmt = common.fmt;
  // Per table: a format's address field may depend on its config (DART v1/v2).
  let mask = masks.get(common);
  if (mask !== undefined) return mask;
  // The highest table address: tables are aligned to their size.
  const maxPa = 2 ** Math.min(fmt.maxOaLg2(common), 56) - 2 ** common.tablememLg2sz;
  mask = tablePointerEntry(common, 0) ^ tablePointerEntry(common, maxPa);
  masks.set(common, mask);
  return mask;
}

/** Dump every table of `t` (see {@link DumpTable}). */
export function dumpTable(t: PtIommu): TableDump {
  // After deinit the pages are free (and maybe another table's): like every op, ENODEV.
  if (!t.isLive) throw new PtError('ENODEV', 'dump of a page table after deinit');
  const common = t.common;
  const fmt = common.fmt;
  const addrMask = tableAddressMask(common);
  const out: DumpTable[] = [];
  const top = ptAllRange(common);
  const oa = new U64Pair();

  const visit = (level: number, pa: number, path: number[], va: bigint, first: number, end: number): void => {
    const pts = new PtState(top).init(top, level, pa);
    const isz = common.itemLg2sz[level]!;
    const node: DumpTable = { level, path, va, pa, numItems: end, itemLg2sz: isz, entries: [] };
    out.push(node);
    const children: Array<[number, number]> = [];
    for (let i = first; i < end; i++) {
      pts.index = i;
      if ((pts.itemLo(i) | pts.itemHi(i)) === 0) continue;
      const type = fmt.loadEntryRaw(pts);
      const raw = u64ToBigInt(pts.entryHi, pts.entryLo);
      const entry: DumpEntry = {
        index: i,
        raw,
        kind: type === PT_ENTRY_OA ? 'L' : type === PT_ENTRY_TABLE ? 'T' : 'E',
        canonical: raw,
      };
      if (type === PT_ENTRY_OA) {
        fmt.entryOa(pts, oa);
        entry.oa = oa.bigint();
        entry.sizeLg2 = fmt.entryNumContigLg2(pts) + isz;
      } else if (type === PT_ENTRY_TABLE) {
        entry.tablePa = fmt.tablePa(pts);
        entry.canonical = raw & ~addrMask;
        // A pointer that leads outside the table memory is listed, not followed.
        if (ptTablePointerOk(common, entry.tablePa)) children.push([i, entry.tablePa]);
      } else if (type !== PT_ENTRY_EMPTY) {
        throw new Error(`unknown entry type ${type as number}`);
      }
      node.entries.push(entry);
    }
    for (const [i, childPa] of children) {
      visit(level - 1, childPa, [...path, i], va + (BigInt(i) << BigInt(isz)), 0, 2 ** common.numItemsLg2[level - 1]!);
    }
  };

  // The top's index window comes from the all-range (linear even with sign extension).
  const pts = new PtState(top).init(top, top.topLevel, top.topTable);
  ptIterFirst(pts);
  visit(top.topLevel, top.topTable, [], u64ToBigInt(top.vaHi, top.vaLo), pts.index, pts.endIndex);
  return { format: fmt.name, topLevel: top.topLevel, tables: out };
}
