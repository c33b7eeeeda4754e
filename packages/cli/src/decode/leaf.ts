/**
 * What a leaf means, asked of the format alone: its OA, size, the IOMMU
 * prot it was mapped with and whether hardware has written through it.
 * Shared by the dumps and by `genpt walk`. Cold path.
 */
import { IOMMU_READ, IOMMU_WRITE, PtState, PtWriteAttrs, U64Pair, type PtCommon } from '@genpt/pt-core';
import { PROT_NAMES } from '../script.js';

export interface LeafInfo {
  /** OA of the start of the (contiguous) entry. */
  oa: bigint;
  /** Bytes (lg2) the whole entry translates. */
  sizeLg2: number;
  /** Items (lg2) the entry spans: 0 for a single item. */
  contigLg2: number;
  /** The IOMMU_* prot a map would have written these bits with; null if none does. */
  prot: number | null;
  /** Hardware's dirty state; null for formats without dirty tracking. */
  dirty: boolean | null;
}

/** "rw", "r-", "-w", plus the other prot names that change the bits: "rw noexec". */
export function protText(prot: number | null): string {
  if (prot === null) return '?';
  const rw = `${prot & IOMMU_READ ? 'r' : '-'}${prot & IOMMU_WRITE ? 'w' : '-'}`;
  const more = PROT_NAMES.filter(([, b]) => b > IOMMU_WRITE && prot & b).map(([n]) => n.toLowerCase());
  return [rw, ...more].join(' ');
}

function popcount(v: number): number {
  let n = 0;
  for (; v; v &= v - 1) n++;
  return n;
}

/**
 * Prot candidates in order of preference: those with READ first (a format
 * that cannot express write-only shows "rw", not "-w"), then fewest bits.
 * Prots with neither READ nor WRITE are refused by the IOMMU core.
 */
const PROT_ORDER: number[] = Array.from({ length: 64 }, (_, p) => p)
  .filter((p) => p & (IOMMU_READ | IOMMU_WRITE))
  .sort((a, b) => (b & IOMMU_READ) - (a & IOMMU_READ) || popcount(a) - popcount(b) || a - b);

export class LeafDecoder {
  private readonly common: PtCommon;
  /** Descriptor bits ("hi:lo") -> the preferred prot producing them. */
  private readonly byDescriptor = new Map<string, number>();
  private readonly attrs = new PtWriteAttrs();
  private readonly oa = new U64Pair();
  private readonly scratch: PtState;

  constructor(common: PtCommon, range: PtState['range']) {
    this.common = common;
    const fmt = common.fmt;
    for (const prot of PROT_ORDER) {
      if (fmt.iommuSetProt(common, this.attrs, prot) !== 0) continue;
      const key = `${this.attrs.descriptorHi >>> 0}:${this.attrs.descriptorLo >>> 0}`;
      if (!this.byDescriptor.has(key)) this.byDescriptor.set(key, prot);
    }
    this.scratch = new PtState(range);
  }

  /** Decode the leaf loaded in pts (loadEntryRaw said PT_ENTRY_OA). */
  decode(pts: PtState): LeafInfo {
    const fmt = this.common.fmt;
    const contigLg2 = fmt.entryNumContigLg2(pts);
    const isz = this.common.itemLg2sz[pts.level]!;
    fmt.entryOa(pts, this.oa);
    const dirty = fmt.hasWriteDirty ? fmt.entryIsWriteDirty(pts) : null;
    return { oa: this.oa.bigint(), sizeLg2: isz + contigLg2, contigLg2, prot: this.protOf(pts, contigLg2), dirty };
  }

  private lookup(pts: PtState): number | null {
    this.common.fmt.attrFromEntry(pts, this.attrs);
    return this.byDescriptor.get(`${this.attrs.descriptorHi >>> 0}:${this.attrs.descriptorLo >>> 0}`) ?? null;
  }

  /**
   * Match the entry's attrs against what set_prot writes. The dirty state is
   * hardware's, and some formats set it at map time, so a copy of the entry
   * is also tried cleaned and made dirty.
   */
  private protOf(pts: PtState, contigLg2: number): number | null {
    const direct = this.lookup(pts);
    if (direct !== null) return direct;
    const fmt = this.common.fmt;
    if (!fmt.hasWriteDirty) return null;
    const n = 1 << contigLg2;
    const first = pts.index & ~(n - 1);
    const s = this.scratch;
    s.words = new Int32Array(2 * n);
    s.base = 0;
    s.level = pts.level;
    s.words.set(pts.words.subarray(pts.base + 2 * first, pts.base + 2 * (first + n)));
    s.index = pts.index - first;
    fmt.loadEntryRaw(s);
    fmt.entryMakeWriteClean(s);
    fmt.loadEntryRaw(s);
    const clean = this.lookup(s);
    if (clean !== null || !fmt.hasMakeWriteDirty) return clean;
    fmt.entryMakeWriteDirty(s);
    fmt.loadEntryRaw(s);
    return this.lookup(s);
  }
}
