/** The leaves of a table as the dump shows them (one per entry), and the leaves a set of runs needs at best. */
import { dumpTable, type PtIommu } from '@genpt/iommu-ops';

export interface Leaf {
  va: bigint;
  lg2: number;
  oa: bigint;
}

const M64 = (1n << 64n) - 1n;

/** Every leaf entry (a contiguous entry once, at its first item), by VA. */
export function tableLeaves(t: PtIommu): Leaf[] {
  const common = t.common;
  const vasz = BigInt(common.maxVaszLg2);
  const sext = (va: bigint): bigint => (common.featSignExtend && (va >> (vasz - 1n)) & 1n ? (va | (M64 << vasz)) & M64 : va);
  const out: Leaf[] = [];
  for (const table of dumpTable(t).tables) {
    for (const e of table.entries) {
      if (e.kind !== 'L') continue;
      const va = sext(table.va + (BigInt(e.index) << BigInt(table.itemLg2sz)));
      const lg2 = e.sizeLg2!;
      if ((va & ((1n << BigInt(lg2)) - 1n)) === 0n) out.push({ va, lg2, oa: e.oa ?? 0n });
    }
  }
  return out.sort((a, b) => (a.va < b.va ? -1 : a.va > b.va ? 1 : 0));
}

/** The leaf holding va, if any. */
export function leafAt(leaves: readonly Leaf[], va: bigint): Leaf | undefined {
  return leaves.find((l) => va >= l.va && va < l.va + (1n << BigInt(l.lg2)));
}

/** The largest leaves [va, last] at OA oa can be: greedy, largest aligned size of the bitmap first. */
export function bestLeaves(bitmap: bigint, va: bigint, last: bigint, oa: bigint): Leaf[] {
  const out: Leaf[] = [];
  for (let p = va; p <= last; ) {
    const o = oa + (p - va);
    let lg2 = 63;
    for (; lg2 >= 0; lg2--) {
      if (((bitmap >> BigInt(lg2)) & 1n) === 0n) continue;
      const m = (1n << BigInt(lg2)) - 1n;
      if ((p & m) === 0n && (o & m) === 0n && p + m <= last) break;
    }
    if (lg2 < 0) throw new Error(`no page size for 0x${p.toString(16)}`);
    out.push({ va: p, lg2, oa: o });
    p += 1n << BigInt(lg2);
  }
  return out;
}

/** PAs of the top and of every table on the path of some leaf: the tables the mapping needs. */
export function leafPathTables(t: PtIommu): Set<number> {
  const dump = dumpTable(t);
  const parent = new Map<number, number>();
  for (const tb of dump.tables) for (const e of tb.entries) if (e.kind === 'T' && e.tablePa !== undefined) parent.set(e.tablePa, tb.pa);
  const needed = new Set<number>([t.common.topTable]);
  for (const tb of dump.tables) {
    if (!tb.entries.some((e) => e.kind === 'L')) continue;
    for (let p: number | undefined = tb.pa; p !== undefined; p = parent.get(p)) needed.add(p);
  }
  return needed;
}

/** Table pages of a set of table PAs. */
export function tablePages(t: PtIommu, pas: Iterable<number>): number {
  let pages = 0;
  for (const pa of pas) pages += 2 ** t.common.mem.blockLg2(pa) / 4096;
  return pages;
}
