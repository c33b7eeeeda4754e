/**
 * A table as a person reads it: the radix tree from iommu-ops' dumpTable,
 * each table nested under the entry that points at it, and leaves grouped
 * into runs (the items of one contiguous entry, then consecutive entries of
 * the same size and prot whose OAs follow on). The text, HTML and JSON dumps
 * all render this.
 */
import { PT_FEAT_SIGN_EXTEND, PtState, ptAllRange } from '@genpt/pt-core';
import { dumpTable, type DumpTable, type PtIommu } from '@genpt/iommu-ops';
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
  /** Every item's raw value, in index order. */
  raws: bigint[];
}

export interface TableRun {
  kind: 'T';
  index: number;
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
}

export function tableTree(t: PtIommu, config: string, opts: TableTreeOptions = {}): TableTree {
  const coalesce = opts.coalesce ?? true;
  const common = t.common;
  const range = ptAllRange(common);
  const decoder = new LeafDecoder(common, range);
  const dump = dumpTable(t);
  const vasz = common.maxVaszLg2;
  const signExtend = common.feature(PT_FEAT_SIGN_EXTEND);
  // dumpTable's VAs are linear; the hardware sees the upper half sign-extended.
  const ext = (va: bigint): bigint =>
    signExtend && (va >> BigInt(vasz - 1)) & 1n ? (va | (M64 & ~((1n << BigInt(vasz)) - 1n))) & M64 : va;
  const byPath = new Map<string, DumpTable>(dump.tables.map((d) => [d.path.join(','), d]));
  let mappedBytes = 0n;
  let leafEntries = 0;

  const build = (d: DumpTable): TableNode => {
    const isz = BigInt(d.itemLg2sz);
    const va0 = ext(d.va);
    const node: TableNode = {
      level: d.level,
      path: d.path,
      pa: d.pa,
      va: va0,
      vaLast: ext(d.va + (BigInt(d.numItems) << isz) - 1n),
      itemLg2sz: d.itemLg2sz,
      numItems: d.numItems,
      spanLg2: d.path.length === 0 ? common.topSpanLg2 : d.itemLg2sz + Math.log2(d.numItems),
      used: d.entries.length,
      runs: [],
    };
    // One state per table: building a child table must not move the parent's.
    const pts = new PtState(range).init(range, d.level, d.pa);
    let prevIndex = -2;
    for (const e of d.entries) {
      const va = ext(d.va + (BigInt(e.index) << isz));
      const vaLast = va + (1n << isz) - 1n;
      if (e.kind === 'T') {
        node.runs.push({ kind: 'T', index: e.index, va, vaLast, raw: e.raw, child: build(byPath.get([...d.path, e.index].join(','))!) });
      } else if (e.kind === 'E') {
        node.runs.push({ kind: 'E', index: e.index, va, vaLast, raw: e.raw });
      } else {
        pts.index = e.index;
        common.fmt.loadEntryRaw(pts);
        const leaf = decoder.decode(pts);
        const last = node.runs.at(-1);
        const firstOfEntry = (e.index & ((1 << leaf.contigLg2) - 1)) === 0;
        if (firstOfEntry) {
          leafEntries++;
          mappedBytes += 1n << BigInt(leaf.sizeLg2);
        }
        if (last?.kind === 'L' && prevIndex === e.index - 1 && sameRun(last, leaf, firstOfEntry, coalesce)) {
          last.lastIndex = e.index;
          last.vaLast = vaLast;
          last.raws.push(e.raw);
          if (firstOfEntry) last.count++;
        } else {
          node.runs.push({ kind: 'L', firstIndex: e.index, lastIndex: e.index, va, vaLast, oa: leaf.oa, count: 1, leaf, raws: [e.raw] });
        }
      }
      prevIndex = e.index;
    }
    return node;
  };

  const root = build(dump.tables[0]!);
  return {
    format: opts.format ?? dump.format,
    config,
    topLevel: dump.topLevel,
    topPa: common.topTable,
    tables: dump.tables.length,
    mappedBytes,
    leafEntries,
    hasDirty: common.fmt.hasWriteDirty,
    root,
  };
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
