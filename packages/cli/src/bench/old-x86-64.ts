/**
 * The baseline of the seed's benchmark for AMD v2 (x86 64-bit) tables, the
 * way drivers/iommu/amd/io_pgtable_v2.c (v6.12) did it: one walk from the top
 * per page for map (v2_alloc_pte, then set the PTE) and for unmap
 * (fetch_pte, then clear it). Bits as @genpt/fmt-x86-64 writes them (table
 * pointers P|RW|U|A: the old code also set D there, which would only make
 * the dumps differ), into a PtIommu's own table memory.
 */
import type { PtIommu } from '@genpt/iommu-ops';
import { levelIndex, OA_HI, OA_LO, OldIoPgtable, TWO32 } from './old-io-pgtable.js';

const P = 1;
const RW = 2;
const U = 4;
const A = 1 << 5;
const D = 1 << 6;
const PS = 1 << 7;

export class OldX86_64Pgtable extends OldIoPgtable {
  private readonly fetched = { size: 0 };

  constructor(t: PtIommu) {
    super(t, (lg2) => lg2 === 12 || lg2 === 21 || lg2 === 30);
  }

  /** v2_alloc_pte(): the PTE slot for a page of 2^sizeLg2 at iova, making tables; its word index. */
  private allocPte(hi: number, lo: number, sizeLg2: number): number {
    const words = this.words;
    const mem = this.t.common.mem;
    // page_size_to_level(): 4K -> 1, 2M -> 2, 1G -> 3 (io_pgtable_v2's numbering)
    const endLevel = sizeLg2 === 30 ? 3 : sizeLg2 === 21 ? 2 : 1;
    let level = this.t.common.topLevel;
    let w = this.wordOf(this.t.common.topTable, levelIndex(level, hi, lo));
    while (level >= endLevel) {
      const pte = words[w]!;
      if (pte & P && pte & PS) {
        // unmap the large PTE in the way
        words[w] = 0;
        words[w + 1] = 0;
        continue;
      }
      if (!(pte & P)) {
        const page = mem.alloc(12);
        if (page < 0) throw new Error('ENOMEM');
        if (words[w] === pte) {
          words[w] = ((page >>> 0) & OA_LO) | P | RW | U | A;
          words[w + 1] = (page / TWO32) & OA_HI;
        } else {
          mem.free(page);
        }
        continue;
      }
      level -= 1;
      w = this.wordOf(this.tablePaOf(w), levelIndex(level, hi, lo));
    }
    // Tear down what the slot held (a table under a large page)
    const old = words[w]!;
    const hiOld = words[w + 1]!;
    if (old & P) {
      words[w] = 0;
      words[w + 1] = 0;
      if (sizeLg2 > 12 && !(old & PS)) this.freeTable(this.tablePaOfValue(old, hiOld), level - 1);
    }
    return w;
  }

  private freeTable(pa: number, level: number): void {
    const words = this.words;
    const base = this.wordOf(pa, 0);
    if (level > 0) {
      for (let i = 0; i < 512; i++) {
        const pte = words[base + 2 * i]!;
        if (pte & P && !(pte & PS)) this.freeTable(this.tablePaOfValue(pte, words[base + 2 * i + 1]!), level - 1);
      }
    }
    this.t.common.mem.free(pa);
  }

  /** iommu_v2_map_pages() */
  protected walkMap(iova: number, paddr: number, pgsizeLg2: number, pgcount: number, prot: number): void {
    const size = 2 ** pgsizeLg2;
    const words = this.words;
    for (let p = 0; p < pgcount; p++, iova += size, paddr += size) {
      const w = this.allocPte((iova / TWO32) | 0, iova | 0, pgsizeLg2);
      // set_pte_attr()
      let lo = ((paddr >>> 0) & OA_LO) | P | U | A;
      if (prot & 2) lo |= RW | D;
      if (pgsizeLg2 === 21 || pgsizeLg2 === 30) lo |= PS;
      words[w] = lo;
      words[w + 1] = (paddr / TWO32) & OA_HI;
    }
  }

  /** fetch_pte(): the PTE word of the page at iova and its size, or -1. */
  private fetchPte(hi: number, lo: number, out: { size: number }): number {
    const words = this.words;
    let level = this.t.common.topLevel;
    let w = this.wordOf(this.t.common.topTable, levelIndex(level, hi, lo));
    out.size = 4096;
    while (level) {
      if (!(words[w]! & P)) return -1;
      w = this.wordOf(this.tablePaOf(w), levelIndex(level - 1, hi, lo));
      if (words[w]! & PS) {
        if (level === 3) out.size = 2 ** 30;
        else if (level === 2) out.size = 2 ** 21;
        else return -1;
        break;
      }
      level -= 1;
    }
    return w;
  }

  /** iommu_v2_unmap_pages(): one walk per page until a hole. Returns bytes unmapped. */
  protected walkUnmap(iova: number, pgsizeLg2: number, pgcount: number): number {
    const total = pgcount * 2 ** pgsizeLg2;
    const words = this.words;
    let unmapped = 0;
    while (unmapped < total) {
      const w = this.fetchPte((iova / TWO32) | 0, iova | 0, this.fetched);
      if (w < 0) return unmapped;
      words[w] = 0;
      words[w + 1] = 0;
      const size = this.fetched.size;
      iova = iova - (iova % size) + size;
      unmapped += size;
    }
    return unmapped;
  }
}
