/**
 * The IOMMU's translation caches: the IOTLB (IOVA page -> OA page, with the
 * permissions and dirty state it was filled with) and the page directory
 * cache (which table translates a region, so a walk can start below the
 * root). Entries are tagged by DomainID — and, for guest (v2) translations,
 * by PASID — and live until an invalidation command drops them: nothing ages
 * out, so a missing or too-narrow invalidation leaves a stale translation
 * that the next DMA will use.
 */
import { fls64, maskHi, maskLo, u64Le, u64ShrHi, u64ShrLo } from '@genpt/pt-core';

/** One cached translation of a naturally aligned IOVA block. */
export interface IotlbEntry {
  /** IOVA of the block (aligned to 2^sizeLg2). */
  baseHi: number;
  baseLo: number;
  sizeLg2: number;
  /** OA of the block. */
  oaHi: number;
  oaLo: number;
  /** Page table permissions along the walk. */
  read: boolean;
  write: boolean;
  /** The leaf's D bit was set when cached (writes need no D update). */
  dirty: boolean;
  /** A cached "not present" (only when the IOMMU caches non-present entries). */
  notPresent: boolean;
}

/** A cached directory entry: the table that translates a region at `level`. */
export interface PdeEntry {
  /** AMD level of the table (1 = the table holding 4 KiB entries). */
  level: number;
  /** The region's first IOVA; it spans 2^(12 + 9 * level) bytes. */
  baseHi: number;
  baseLo: number;
  tablePa: number;
  read: boolean;
  write: boolean;
}

interface TagCache {
  entries: Map<string, IotlbEntry>;
  /** How many entries of each size are cached, so lookups probe only those sizes. */
  sizes: Map<number, number>;
  pdes: Map<string, PdeEntry>;
}

/** Host translations of a domain. */
export function hostTag(domainId: number): string {
  return `h${domainId}`;
}

/** Guest translations of a domain and PASID. */
export function guestTag(domainId: number, pasid: number): string {
  return `g${domainId}.${pasid}`;
}

export function pdeSpanLg2(level: number): number {
  return 12 + 9 * level;
}

export class Iotlb {
  private readonly tags = new Map<string, TagCache>();
  hits = 0;
  misses = 0;

  /** The cached translation covering iova, if any. */
  lookup(tag: string, iovaHi: number, iovaLo: number): IotlbEntry | undefined {
    const c = this.tags.get(tag);
    if (c === undefined) return undefined;
    for (const lg2 of c.sizes.keys()) {
      const e = c.entries.get(entryKey(lg2, iovaHi & ~maskHi(lg2), iovaLo & ~maskLo(lg2)));
      if (e !== undefined) return e;
    }
    return undefined;
  }

  insert(tag: string, e: IotlbEntry): void {
    const c = this.cache(tag);
    const key = entryKey(e.sizeLg2, e.baseHi, e.baseLo);
    if (!c.entries.has(key)) c.sizes.set(e.sizeLg2, (c.sizes.get(e.sizeLg2) ?? 0) + 1);
    c.entries.set(key, e);
  }

  /** The lowest-level cached table for iova below `topLevel`, if any. */
  pdeLookup(tag: string, topLevel: number, iovaHi: number, iovaLo: number): PdeEntry | undefined {
    const c = this.tags.get(tag);
    if (c === undefined || c.pdes.size === 0) return undefined;
    for (let level = 1; level < topLevel; level++) {
      const s = pdeSpanLg2(level);
      const e = c.pdes.get(pdeKey(level, u64ShrHi(iovaHi, iovaLo, s), u64ShrLo(iovaHi, iovaLo, s)));
      if (e !== undefined) return e;
    }
    return undefined;
  }

  pdeInsert(tag: string, e: PdeEntry): void {
    const s = pdeSpanLg2(e.level);
    this.cache(tag).pdes.set(pdeKey(e.level, u64ShrHi(e.baseHi, e.baseLo, s), u64ShrLo(e.baseHi, e.baseLo, s)), e);
  }

  /**
   * INVALIDATE_IOMMU_PAGES of the aligned block [first, last] (inclusive):
   * drop every translation of `tag` no larger than the block that overlaps
   * it; with `pde` also such directory entries.
   * Returns how many entries went.
   */
  invalidate(tag: string, firstHi: number, firstLo: number, lastHi: number, lastLo: number, pde: boolean): number {
    const c = this.tags.get(tag);
    if (c === undefined) return 0;
    let n = 0;
    // The command's naturally aligned block: an invalidation must be at least
    // as large as the largest page it invalidates (AMD IOMMU spec 2.4.3,
    // software note), so entries larger than the block may survive it and
    // this model keeps them.
    const blockLg2 = fls64(firstHi ^ lastHi, firstLo ^ lastLo);
    for (const [key, e] of c.entries) {
      if (e.sizeLg2 <= blockLg2 && overlaps(e.baseHi, e.baseLo, e.sizeLg2, firstHi, firstLo, lastHi, lastLo)) {
        c.entries.delete(key);
        const left = c.sizes.get(e.sizeLg2)! - 1;
        if (left === 0) c.sizes.delete(e.sizeLg2);
        else c.sizes.set(e.sizeLg2, left);
        n++;
      }
    }
    if (pde) {
      for (const [key, e] of c.pdes) {
        const span = pdeSpanLg2(e.level);
        if (span <= blockLg2 && overlaps(e.baseHi, e.baseLo, span, firstHi, firstLo, lastHi, lastLo)) {
          c.pdes.delete(key);
          n++;
        }
      }
    }
    if (c.entries.size === 0 && c.pdes.size === 0) this.tags.delete(tag);
    return n;
  }

  clear(): void {
    this.tags.clear();
  }

  /** Cached translations (all tags). */
  get size(): number {
    let n = 0;
    for (const c of this.tags.values()) n += c.entries.size;
    return n;
  }

  /** Cached directory entries (all tags). */
  get pdeSize(): number {
    let n = 0;
    for (const c of this.tags.values()) n += c.pdes.size;
    return n;
  }

  /** Translations cached under a tag, for inspection. */
  entriesOf(tag: string): IotlbEntry[] {
    return [...(this.tags.get(tag)?.entries.values() ?? [])];
  }

  private cache(tag: string): TagCache {
    let c = this.tags.get(tag);
    if (c === undefined) {
      c = { entries: new Map(), sizes: new Map(), pdes: new Map() };
      this.tags.set(tag, c);
    }
    return c;
  }
}

function entryKey(lg2: number, hi: number, lo: number): string {
  return `${lg2}:${hi >>> 0}:${lo >>> 0}`;
}

function pdeKey(level: number, hi: number, lo: number): string {
  return `${level}:${hi >>> 0}:${lo >>> 0}`;
}

/** [base, base + 2^lg2 - 1] overlaps [first, last]. */
function overlaps(baseHi: number, baseLo: number, lg2: number, firstHi: number, firstLo: number, lastHi: number, lastLo: number): boolean {
  const endHi = baseHi | maskHi(lg2);
  const endLo = baseLo | maskLo(lg2);
  return u64Le(baseHi, baseLo, lastHi, lastLo) && u64Le(firstHi, firstLo, endHi, endLo);
}
