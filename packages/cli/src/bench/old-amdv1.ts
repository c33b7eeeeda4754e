/**
 * The baseline of the seed's benchmark: the AMD v1 page table the way the
 * io-pgtable code did it (drivers/iommu/amd/io_pgtable.c, v6.12): map_pages
 * walks from the top once per page (alloc_pte), clears what it replaces
 * (free_clear_pte) and writes the page's PTEs; unmap_pages walks from the top
 * once per page (fetch_pte) and clears them. It writes the same bits as
 * @genpt/fmt-amdv1, into a PtIommu's own table memory, so a dump of either
 * is the same table.
 */
import type { PtIommu } from '@genpt/iommu-ops';
import { levelIndex, OA_HI, OA_LO, OldIoPgtable, TWO32 } from './old-io-pgtable.js';

const PR = 1;
const NL_SHIFT = 9;
const FC_HI = 1 << 28;
const IR_HI = 1 << 29;
const IW_HI = 1 << 30;

export class OldAmdv1Pgtable extends OldIoPgtable {
  private readonly fc: boolean;

  constructor(t: PtIommu) {
    super(t, (lg2) => lg2 >= 12 && lg2 <= 51);
    this.fc = t.common.feature(7);
  }

  /** increase_address_space(): one more level on top, the old root at index 0. */
  private increaseAddressSpace(): void {
    const common = this.t.common;
    const pa = common.mem.alloc(12);
    if (pa < 0) throw new Error('ENOMEM');
    const level = common.topLevel;
    const root = common.topTable;
    const w = this.wordOf(pa, 0);
    this.words[w] = ((root >>> 0) & OA_LO) | PR | (level << NL_SHIFT);
    this.words[w + 1] = ((root / TWO32) & OA_HI) | IR_HI | IW_HI;
    common.topSet(pa, level + 1);
  }

  /** alloc_pte(): walk to the PTE slot for a page of 2^sizeLg2 at iova, making tables. Returns its word index. */
  private allocPte(iova: number, hi: number, lo: number, sizeLg2: number): number {
    const common = this.t.common;
    const endLvl = Math.floor((sizeLg2 - 12) / 9);
    // Grow while the page's last byte is past the top's span, or the top is below its level.
    while ((common.topLevel < 5 && iova + 2 ** sizeLg2 > 2 ** (12 + 9 * (common.topLevel + 1))) || common.topLevel < endLvl) {
      this.increaseAddressSpace();
    }
    const words = this.words;
    let level = common.topLevel;
    let table = common.topTable;
    let w = this.wordOf(table, levelIndex(level, hi, lo));
    while (level > endLvl) {
      const pte = words[w]!;
      if (pte & PR && ((pte >>> NL_SHIFT) & 7) === 7) {
        // replacing a series of large PTEs: tear them all down
        const count = 1 << (Math.log2(this.l7Size(w, level)) - (12 + 9 * level));
        const first = w & ~((count << 1) - 1);
        for (let i = 0; i < count; i++) {
          words[first + 2 * i] = 0;
          words[first + 2 * i + 1] = 0;
        }
        continue;
      }
      if (!(pte & PR) || ((pte >>> NL_SHIFT) & 7) === 0) {
        const page = common.mem.alloc(12);
        if (page < 0) throw new Error('ENOMEM');
        // try_cmpxchg64 against the value just read
        if (words[w] === pte) {
          words[w] = ((page >>> 0) & OA_LO) | PR | (level << NL_SHIFT);
          words[w + 1] = ((page / TWO32) & OA_HI) | IR_HI | IW_HI;
        } else {
          common.mem.free(page);
        }
        continue;
      }
      level -= 1;
      table = this.tablePaOf(w);
      w = this.wordOf(table, levelIndex(level, hi, lo));
    }
    return w;
  }

  /** Size of the large (Next Level 7) page whose PTE is at word w of a level's table. */
  private l7Size(w: number, level: number): number {
    const words = this.words;
    // PTE_PAGE_SIZE(): ones from address bit 12 give the size
    let size = 2 ** (12 + 9 * level + 1);
    let bit = 12 + 9 * level;
    while ((bit < 32 ? words[w]! & (1 << bit) : words[w + 1]! & (1 << (bit - 32))) !== 0) {
      size *= 2;
      bit++;
    }
    return size;
  }

  /** free_clear_pte(): clear a PTE, freeing the table it pointed to (and everything under it). */
  private freeClearPte(w: number, level: number): void {
    const words = this.words;
    const pte = words[w]!;
    const pteHi = words[w + 1]!;
    words[w] = 0;
    words[w + 1] = 0;
    const nl = (pte >>> NL_SHIFT) & 7;
    if (!(pte & PR) || nl === 0 || nl === 7) return;
    this.freeTable(this.tablePaOfValue(pte, pteHi), level - 1);
  }

  private freeTable(pa: number, level: number): void {
    const words = this.words;
    const base = this.wordOf(pa, 0);
    if (level > 0) {
      for (let i = 0; i < 512; i++) {
        const pte = words[base + 2 * i]!;
        const nl = (pte >>> NL_SHIFT) & 7;
        if (pte & PR && nl !== 0 && nl !== 7) this.freeTable(this.tablePaOfValue(pte, words[base + 2 * i + 1]!), level - 1);
      }
    }
    this.t.common.mem.free(pa);
  }

  /** iommu_v1_map_pages(): pgcount pages of 2^pgsizeLg2, one walk each. */
  protected walkMap(iova: number, paddr: number, pgsizeLg2: number, pgcount: number, prot: number): void {
    const size = 2 ** pgsizeLg2;
    const words = this.words;
    const count = 1 << ((pgsizeLg2 - 12) % 9);
    for (let p = 0; p < pgcount; p++, iova += size, paddr += size) {
      const hi = (iova / TWO32) | 0;
      const lo = iova | 0;
      const w = this.allocPte(iova, hi, lo, pgsizeLg2);
      const level = Math.floor((pgsizeLg2 - 12) / 9);
      for (let i = 0; i < count; i++) this.freeClearPte(w + 2 * i, level);
      let pteLo = ((paddr >>> 0) & OA_LO) | PR;
      let pteHi = ((paddr / TWO32) & OA_HI) | (this.fc ? FC_HI : 0);
      if (count > 1) {
        // PAGE_SIZE_PTE(): Next Level 7 and ones for the size from bit 12
        const ones = pgsizeLg2 - 13;
        pteLo |= (7 << NL_SHIFT) | (ones >= 20 ? OA_LO : ((1 << ones) - 1) << 12);
        if (ones > 20) pteHi |= (1 << (ones - 20)) - 1;
      }
      if (prot & 1) pteHi |= IR_HI;
      if (prot & 2) pteHi |= IW_HI;
      for (let i = 0; i < count; i++) {
        words[w + 2 * i] = pteLo;
        words[w + 2 * i + 1] = pteHi;
      }
    }
  }

  /** fetch_pte(): the first PTE word of the page at iova and its size, or -1. */
  private fetchPte(hi: number, lo: number, out: { size: number }): number {
    const words = this.words;
    const common = this.t.common;
    let level = common.topLevel;
    let w = this.wordOf(common.topTable, levelIndex(level, hi, lo));
    out.size = 2 ** (12 + 9 * level);
    while (level > 0) {
      const pte = words[w]!;
      if (!(pte & PR)) return -1;
      const nl = (pte >>> NL_SHIFT) & 7;
      if (nl === 7 || nl === 0) break;
      if (nl !== level) return -1;
      level -= 1;
      w = this.wordOf(this.tablePaOf(w), levelIndex(level, hi, lo));
      out.size = 2 ** (12 + 9 * level);
    }
    if (((words[w]! >>> NL_SHIFT) & 7) === 7) {
      out.size = this.l7Size(w, level);
      const count = out.size / 2 ** (12 + 9 * level);
      w &= ~((count << 1) - 1);
    }
    return w;
  }

  private readonly fetched = { size: 0 };

  /** iommu_v1_unmap_pages(): one walk per page until a hole. Returns bytes unmapped. */
  protected walkUnmap(iova: number, pgsizeLg2: number, pgcount: number): number {
    const total = pgcount * 2 ** pgsizeLg2;
    const words = this.words;
    let unmapped = 0;
    while (unmapped < total) {
      const w = this.fetchPte((iova / TWO32) | 0, iova | 0, this.fetched);
      if (w < 0) return unmapped;
      const size = this.fetched.size;
      const level = Math.floor((Math.log2(size) - 12) / 9);
      const count = size / 2 ** (12 + 9 * level);
      for (let i = 0; i < count; i++) {
        words[w + 2 * i] = 0;
        words[w + 2 * i + 1] = 0;
      }
      iova = iova - (iova % size) + size;
      unmapped += size;
    }
    return unmapped;
  }
}
