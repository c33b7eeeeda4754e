/**
 * The interval trees of an io_pagetable (areas, reserved and allowed IOVA),
 * as sorted arrays: the selftest scenarios hold a handful of nodes, and
 * what matters is the kernel's query semantics, not tree balancing.
 */

export interface IntervalNode {
  start: bigint;
  /** Inclusive. */
  last: bigint;
}

export class IntervalList<T extends IntervalNode> {
  private nodes: T[] = [];

  get size(): number {
    return this.nodes.length;
  }

  insert(node: T): void {
    let i = this.nodes.length;
    while (i > 0 && this.nodes[i - 1]!.start > node.start) i--;
    this.nodes.splice(i, 0, node);
  }

  remove(node: T): void {
    const i = this.nodes.indexOf(node);
    if (i < 0) throw new Error('interval node not in the list');
    this.nodes.splice(i, 1);
  }

  /** Every node intersecting [start, last], by increasing start (interval_tree_iter_first/next). */
  *iter(start: bigint, last: bigint): Generator<T> {
    // Copy: callers may remove nodes while iterating.
    for (const n of [...this.nodes]) {
      if (n.start > last) break;
      if (n.last >= start) yield n;
    }
  }

  first(start: bigint, last: bigint): T | undefined {
    for (const n of this.nodes) {
      if (n.start > last) break;
      if (n.last >= start) return n;
    }
    return undefined;
  }

  all(): readonly T[] {
    return this.nodes;
  }

  clear(): void {
    this.nodes = [];
  }
}

/** A used or hole span, as interval_tree_for_each_span / _double_span yield them. */
export interface Span {
  isHole: boolean;
  start: bigint;
  last: bigint;
}

/**
 * Walk [first, last] as alternating used spans (covered by any node of any
 * list, touching nodes merged) and holes (covered by none).
 */
export function spans(lists: ReadonlyArray<IntervalList<IntervalNode>>, first: bigint, last: bigint): Span[] {
  const used: IntervalNode[] = [];
  for (const l of lists) for (const n of l.iter(first, last)) used.push(n);
  used.sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: Span[] = [];
  let cur = first;
  let i = 0;
  while (i < used.length) {
    // biome-ignore lint/complexity/useMathMinMax: bigints
    const s = used[i]!.start > cur ? used[i]!.start : cur;
    if (s > cur) out.push({ isHole: true, start: cur, last: s - 1n });
    let end = used[i]!.last;
    i++;
    while (i < used.length && used[i]!.start <= end + 1n) {
      if (used[i]!.last > end) end = used[i]!.last;
      i++;
    }
    if (end > last) end = last;
    out.push({ isHole: false, start: s, last: end });
    if (end >= last) return out;
    cur = end + 1n;
  }
  out.push({ isHole: true, start: cur, last });
  return out;
}
