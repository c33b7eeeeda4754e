/**
 * What the hardware could cache from a table right now, read straight from
 * table memory through the format (dumpTable): every leaf translation, by
 * size (a contiguous entry as one unit at its first item), every table
 * pointer by the span of the item that holds it (the walk or paging-structure
 * cache), and the set of table pages the tree reaches.
 */
import { dumpTable, type PtIommu } from '@genpt/iommu-ops';

/** lg2 size -> (VA >> lg2) -> the raw entry. */
export type SizedEntries = Map<number, Map<bigint, bigint>>;

export interface TableSnapshot {
  leaves: SizedEntries;
  walks: SizedEntries;
  /** PAs of every table the tree reaches, the top included. */
  tables: Set<number>;
}

const M64 = (1n << 64n) - 1n;

function put(into: SizedEntries, lg2: number, va: bigint, raw: bigint): void {
  let m = into.get(lg2);
  if (m === undefined) {
    m = new Map();
    into.set(lg2, m);
  }
  m.set(va >> BigInt(lg2), raw);
}

export function readSnapshot(t: PtIommu): TableSnapshot {
  const common = t.common;
  const vasz = BigInt(common.maxVaszLg2);
  // The dump gives the upper half of a sign-extended table without its sign bits.
  const sext = (va: bigint): bigint => (common.featSignExtend && (va >> (vasz - 1n)) & 1n ? (va | (M64 << vasz)) & M64 : va);
  const snap: TableSnapshot = { leaves: new Map(), walks: new Map(), tables: new Set() };
  for (const table of dumpTable(t).tables) {
    snap.tables.add(table.pa);
    const isz = BigInt(table.itemLg2sz);
    for (const e of table.entries) {
      const va = sext(table.va + (BigInt(e.index) << isz));
      if (e.kind === 'T') put(snap.walks, table.itemLg2sz, va, e.raw);
      else if (e.kind === 'L') {
        const lg2 = e.sizeLg2!;
        // One unit per contiguous entry, keyed and valued at its first item.
        if ((va & ((1n << BigInt(lg2)) - 1n)) === 0n) put(snap.leaves, lg2, va, e.raw);
      }
    }
  }
  return snap;
}
