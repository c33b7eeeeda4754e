/**
 * A table as a person reads it: the radix tree read from table memory,
 * each table nested under the entry that points at it, leaves grouped into
 * runs (the items of one contiguous entry, then consecutive entries of the
 * same size and prot whose OAs follow on), and consecutive alike tables into
 * one run. Built in one pass that keeps only distinct runs, so a table of
 * millions of pages dumps in memory and output that follow its runs, not
 * its pages. The text, HTML and JSON dumps all render this.
 */
import {
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_SIGN_EXTEND,
  PtError,
  PtState,
  ptAllRange,
  ptIterFirst,
  u64ToBigInt,
} from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';
import { LeafDecoder, type LeafInfo } from '../decode/leaf.js';

export interface LeafRun {
  kind: 'L';
  firstIndex: number;
  lastIndex: number;
  va: bigint;
  /** Inclusive. */
  vaLast: bigint;
  oa: bigint;
  /** Entries in the run, each of 2^leaf.sizeLg2 bytes. */
  count: number;
  leaf: LeafInfo;
  /** The first item's raw value. */
  raw: bigint;
  /** With `raws`: every item's raw value, in index order. */
  raws?: bigint[];
}

/**
 * A table pointer, or (coalescing) a run of consecutive table pointers whose
 * tables are alike: the same structure translating with the same VA -> OA
 * offset, as a large linear map makes them. `child` is the first; the others
 * are counted, not kept, so a dump's size follows its distinct runs.
 */
export interface TableRun {
  kind: 'T';
  index: number;
  /** Last index of the run (= index for one pointer). */
  lastIndex: number;
  /** Table pointers in the run. */
  count: number;
  va: bigint;
  vaLast: bigint;
  raw: bigint;
  child: TableNode;
}

/** A non-zero item that is not present. */
export interface OtherRun {
  kind: 'E';
  index: number;
  va: bigint;
  vaLast: bigint;
  raw: bigint;
}

export type Run = LeafRun | TableRun | OtherRun;

export interface TableNode {
  level: number;
  path: number[];
  pa: number;
  va: bigint;
  vaLast: bigint;
  itemLg2sz: number;
  numItems: number;
  /** VA bits the table spans (the top's can be fewer than its items times their size). */
  spanLg2: number;
  /** Items in use. */
  used: number;
  runs: Run[];
  /** Structure and VA -> OA offsets, for comparing siblings (internal). */
  sig?: string;
}

export interface TableTree {
  format: string;
  config: string;
  topLevel: number;
  topPa: number;
  tables: number;
  /** Bytes of VA the leaves translate. */
  mappedBytes: bigint;
  leafEntries: number;
  hasDirty: boolean;
  root: TableNode;
}

const M64 = (1n << 64n) - 1n;

/** Build the tree of a live table. */
export interface TableTreeOptions {
  /** Group leaves into runs (default true); false keeps one run per entry. */
  coalesce?: boolean;
  /** The format's name to show (default the format's own, e.g. "amdv1_mock" for the CLI's "mock"). */
  format?: string;
  /** Keep every leaf item's raw value (LeafRun.raws); default: with coalesce off. */
  raws?: boolean;
}

export function tableTree(t: PtIommu, config: string, opts: TableTreeOptions = {}): TableTree {
  if (!t.isLive) throw new PtError('ENODEV', 'dump of a page table after deinit');
  const coalesce = opts.coalesce ?? true;
  const keepRaws = opts.raws ?? !coalesce;
  const common = t.common;
  const fmt = common.fmt;
  const range = ptAllRange(common);
  const decoder = new LeafDecoder(common, range);
  const vasz = common.maxVaszLg2;
  const signExtend = common.feature(PT_FEAT_SIGN_EXTEND);
  // Table VAs are linear; the hardware sees the upper half sign-extended.
  const ext = (va: bigint): bigint =>
    signExtend && (va >> BigInt(vasz - 1)) & 1n ? (va | (M64 & ~((1n << BigInt(vasz)) - 1n))) & M64 : va;
  let mappedBytes = 0n;
  let leafEntries = 0;
  let tables = 0;

  const build = (level: number, pa: number, path: number[], linearVa: bigint, first: number, end: number): TableNode => {
    tables++;
    const isz = BigInt(common.itemLg2sz[level]!);
    const numItems = path.length === 0 ? end : 2 ** common.numItemsLg2[level]!;
    const node: TableNode = {
      level,
      path,
      pa,
      va: ext(linearVa),
      vaLast: ext(linearVa + (BigInt(numItems) << isz) - 1n),
      itemLg2sz: Number(isz),
      numItems,
      spanLg2: path.length === 0 ? common.topSpanLg2 : Number(isz) + Math.log2(numItems),
      used: 0,
      runs: [],
    };
    // One state per table: building a child table must not move the parent's.
    const pts = new PtState(range).init(range, level, pa);
    let prevIndex = -2;
    for (let i = first; i < end; i++) {
      if ((pts.itemLo(i) | pts.itemHi(i)) === 0) continue;
      node.used++;
      pts.index = i;
      const type = fmt.loadEntryRaw(pts);
      const raw = u64ToBigInt(pts.entryHi, pts.entryLo);
      const itemVa = linearVa + (BigInt(i) << isz);
      const va = ext(itemVa);
      const vaLast = va + (1n << isz) - 1n;
      const last = node.runs.at(-1);
      if (type === PT_ENTRY_TABLE) {
        const child = build(level - 1, fmt.tablePa(pts), [...path, i], itemVa, 0, 2 ** common.numItemsLg2[level - 1]!);
        if (coalesce && last?.kind === 'T' && last.lastIndex === i - 1 && signature(last.child) === signature(child)) {
          last.lastIndex = i;
          last.count++;
          last.vaLast = vaLast;
        } else {
          node.runs.push({ kind: 'T', index: i, lastIndex: i, count: 1, va, vaLast, raw, child });
        }
      } else if (type === PT_ENTRY_OA) {
        const leaf = decoder.decode(pts);
        const firstOfEntry = (i & ((1 << leaf.contigLg2) - 1)) === 0;
        if (firstOfEntry) {
          leafEntries++;
          mappedBytes += 1n << BigInt(leaf.sizeLg2);
        }
        if (last?.kind === 'L' && prevIndex === i - 1 && sameRun(last, leaf, firstOfEntry, coalesce)) {
          last.lastIndex = i;
          last.vaLast = vaLast;
          last.raws?.push(raw);
          if (firstOfEntry) last.count++;
        } else {
          const run: LeafRun = { kind: 'L', firstIndex: i, lastIndex: i, va, vaLast, oa: leaf.oa, count: 1, leaf, raw };
          if (keepRaws) run.raws = [raw];
          node.runs.push(run);
        }
      } else if (type === PT_ENTRY_EMPTY) {
        continue;
      } else {
        node.runs.push({ kind: 'E', index: i, va, vaLast, raw });
      }
      prevIndex = i;
    }
    return node;
  };

  // The top's index window comes from the all-range (linear even with sign extension).
  const top = new PtState(range).init(range, range.topLevel, range.topTable);
  ptIterFirst(top);
  const root = build(range.topLevel, range.topTable, [], u64ToBigInt(range.vaHi, range.vaLo), top.index, top.endIndex);
  return {
    format: opts.format ?? fmt.name,
    config,
    topLevel: range.topLevel,
    topPa: common.topTable,
    tables,
    mappedBytes,
    leafEntries,
    hasDirty: fmt.hasWriteDirty,
    root,
  };
}

/**
 * A table's structure and the VA -> OA offset of each of its leaf runs,
 * without its addresses: two tables with the same signature translate alike.
 */
function signature(n: TableNode): string {
  if (n.sig !== undefined) return n.sig;
  const parts: string[] = [`${n.level}:${n.used}`];
  for (const r of n.runs) {
    if (r.kind === 'L') {
      const l = r.leaf;
      parts.push(`L${r.firstIndex}-${r.lastIndex}x${r.count}/${l.sizeLg2}/${l.contigLg2}/${l.prot}/${l.dirty}/${(r.oa - r.va) & M64}`);
    } else if (r.kind === 'T') {
      parts.push(`T${r.index}-${r.lastIndex}x${r.count}(${signature(r.child)})`);
    } else {
      parts.push(`E${r.index}/${r.raw}`);
    }
  }
  n.sig = parts.join(',');
  return n.sig;
}

/** Whether a leaf item continues the run: the same entry, or (coalescing) the next entry alike. */
function sameRun(run: LeafRun, leaf: LeafInfo, firstOfEntry: boolean, coalesce: boolean): boolean {
  if (leaf.sizeLg2 !== run.leaf.sizeLg2) return false;
  const size = 1n << BigInt(run.leaf.sizeLg2);
  // The run's entries have OAs oa, oa + size, ...: the next item either
  // belongs to the last of them or starts the one after it.
  if (!firstOfEntry) return leaf.oa === run.oa + size * BigInt(run.count - 1);
  return coalesce && leaf.prot === run.leaf.prot && leaf.dirty === run.leaf.dirty && leaf.oa === run.oa + size * BigInt(run.count);
}
