/**
 * An emulated IOTLB: leaf translations and walk-cache entries (table
 * pointers) held per size, filled by translating through the live table and
 * emptied only by invalidations. After every invalidation each entry still
 * cached must equal what a fresh walk gives; one that does not is a stale
 * translation the hardware could still use.
 */
import type { SizedEntries, TableSnapshot } from './snapshot.js';

export type IotlbKind = 'leaf' | 'walk';

export interface IotlbStale {
  kind: IotlbKind;
  va: bigint;
  lg2sz: number;
  cached: bigint;
  /** What the table holds there now (undefined: nothing of that size). */
  now: bigint | undefined;
}

/** Which entries an invalidation reaches. */
export interface IotlbErase {
  /** Inclusive range of VAs. */
  start: bigint;
  last: bigint;
  /** true: entries overlapping the range; false: only entries wholly inside it. */
  overlapping: boolean;
  /** Sizes reached (lg2 -> true); undefined: every size. */
  leafSizes?: (lg2: number) => boolean;
  walkSizes?: (lg2: number) => boolean;
  leaves: boolean;
  walks: boolean;
}

const hex = (v: bigint): string => `0x${v.toString(16)}`;

export function describeStale(s: IotlbStale): string {
  const now = s.now === undefined ? 'nothing' : hex(s.now);
  return `stale ${s.kind} in the IOTLB at VA ${hex(s.va)} lg2sz ${s.lg2sz}: cached ${hex(s.cached)}, the table holds ${now}`;
}

export class EmulatedIotlb {
  readonly leaves: SizedEntries = new Map();
  readonly walks: SizedEntries = new Map();
  /** Entries removed by invalidations so far. */
  erased = 0;

  /** Cache every translation of the table (hardware may have walked any of them). */
  fill(snap: TableSnapshot): void {
    copyInto(this.leaves, snap.leaves);
    copyInto(this.walks, snap.walks);
  }

  /** Refill one leaf as a translation through it would (after the hardware itself changed it, e.g. dirty). */
  refillLeaf(snap: TableSnapshot, va: bigint): void {
    for (const [lg2, m] of snap.leaves) {
      const idx = va >> BigInt(lg2);
      const raw = m.get(idx);
      if (raw !== undefined) this.leaves.get(lg2)?.set(idx, raw);
    }
  }

  clear(): void {
    this.erased += this.size;
    this.leaves.clear();
    this.walks.clear();
  }

  get size(): number {
    let n = 0;
    for (const m of this.leaves.values()) n += m.size;
    for (const m of this.walks.values()) n += m.size;
    return n;
  }

  /** Apply one invalidation. */
  erase(e: IotlbErase): void {
    if (e.leaves) this.erased += eraseSized(this.leaves, e, e.leafSizes);
    if (e.walks) this.erased += eraseSized(this.walks, e, e.walkSizes);
  }

  /** Every cached entry that differs from the table now. */
  stale(snap: TableSnapshot): IotlbStale[] {
    return [...staleIn('leaf', this.leaves, snap.leaves), ...staleIn('walk', this.walks, snap.walks)];
  }
}

function copyInto(into: SizedEntries, from: SizedEntries): void {
  for (const [lg2, m] of from) {
    let d = into.get(lg2);
    if (d === undefined) {
      d = new Map();
      into.set(lg2, d);
    }
    for (const [k, v] of m) if (!d.has(k)) d.set(k, v);
  }
}

function eraseSized(entries: SizedEntries, e: IotlbErase, sizes: ((lg2: number) => boolean) | undefined): number {
  let n = 0;
  for (const [lg2, m] of entries) {
    if (sizes !== undefined && !sizes(lg2)) continue;
    const sh = BigInt(lg2);
    for (const idx of m.keys()) {
      const first = idx << sh;
      const last = first + (1n << sh) - 1n;
      const hit = e.overlapping ? first <= e.last && last >= e.start : first >= e.start && last <= e.last;
      if (hit) {
        m.delete(idx);
        n++;
      }
    }
  }
  return n;
}

function staleIn(kind: IotlbKind, cached: SizedEntries, now: SizedEntries): IotlbStale[] {
  const out: IotlbStale[] = [];
  for (const [lg2, m] of cached) {
    const cur = now.get(lg2);
    for (const [idx, raw] of m) {
      const v = cur?.get(idx);
      if (v !== raw) out.push({ kind, va: idx << BigInt(lg2), lg2sz: lg2, cached: raw, now: v });
    }
  }
  return out;
}
