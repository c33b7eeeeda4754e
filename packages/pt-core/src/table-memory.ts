/**
 * Table memory: zeroed, naturally aligned tables addressed by physical
 * address, held in large Int32Array arenas (no JS object per table).
 *
 * A 64-bit entry is two int32 words, low word first, so on the little-endian
 * hosts Node runs on an arena's bytes are exactly the table image the kernel
 * would write. Hardware models read the same memory by physical address.
 */

/** Smallest allocation and the unit of {@link TableMemory.pagesInUse}. */
export const TABLE_PAGE_LG2 = 12;

export interface TableMemoryOptions {
  /** Physical address of the first arena; must be aligned to the arena size. Default 2^40. */
  basePa?: number;
  /** log2 of the arena (and largest allocation) size in bytes. Default 22 (4 MiB). */
  chunkLg2?: number;
  /** Refuse allocations (ENOMEM) once this many bytes are in use. Default unlimited. */
  maxBytes?: number;
}

/** Allocator and accessor for the memory page tables live in. */
export class TableMemory {
  readonly basePa: number;
  readonly chunkLg2: number;
  readonly chunkBytes: number;
  readonly maxBytes: number;
  /** Table pages (4 KiB units) currently allocated. */
  pagesInUse = 0;
  /** Allocation attempts so far, including failed ones. */
  allocCalls = 0;

  private readonly chunks: Int32Array[] = [];
  /** Per 4 KiB page of each arena: 0 = free, else (lg2 size - 11) at a block's first page. */
  private readonly pageMeta: Uint8Array[] = [];
  /** Free blocks by lg2 size (PAs). */
  private readonly freeLists: number[][] = [];
  private bumpPa: number;
  private bumpEnd: number;
  private failAt = 0;
  private failEvery = false;

  constructor(opts: TableMemoryOptions = {}) {
    this.chunkLg2 = opts.chunkLg2 ?? 22;
    if (!Number.isInteger(this.chunkLg2) || this.chunkLg2 < TABLE_PAGE_LG2 || this.chunkLg2 > 30) {
      throw new RangeError(`chunkLg2 ${this.chunkLg2} must be ${TABLE_PAGE_LG2}..30`);
    }
    this.chunkBytes = 2 ** this.chunkLg2;
    this.basePa = opts.basePa ?? 2 ** 40;
    if (!Number.isSafeInteger(this.basePa) || this.basePa < 0 || this.basePa % this.chunkBytes !== 0) {
      throw new RangeError(`basePa must be a safe integer aligned to ${this.chunkBytes}`);
    }
    this.maxBytes = opts.maxBytes ?? Infinity;
    for (let i = 0; i <= this.chunkLg2; i++) this.freeLists.push([]);
    this.bumpPa = this.basePa;
    this.bumpEnd = this.basePa;
  }

  /** Bytes of arena reserved from the host (grows by whole arenas). */
  get reservedBytes(): number {
    return this.chunks.length * this.chunkBytes;
  }

  /** One past the last physical address any arena covers. */
  get endPa(): number {
    return this.basePa + this.reservedBytes;
  }

  /**
   * Make allocation number `n` from now fail (1 = the next one), once; or
   * every allocation from then on with `{ sticky: true }`. 0 cancels.
   */
  failNthAlloc(n: number, opts: { sticky?: boolean } = {}): void {
    this.failAt = n > 0 ? this.allocCalls + n : 0;
    this.failEvery = opts.sticky === true;
  }

  /**
   * Allocate a zeroed block of 2^lg2sz bytes (rounded up to 4 KiB) at a
   * physical address aligned to its size. Returns the PA, or -1 (ENOMEM).
   */
  alloc(lg2sz: number): number {
    const calls = ++this.allocCalls;
    if (this.failAt !== 0 && calls >= this.failAt) {
      if (!this.failEvery) this.failAt = 0;
      return -1;
    }
    const lg2 = lg2sz < TABLE_PAGE_LG2 ? TABLE_PAGE_LG2 : lg2sz;
    if (lg2 > this.chunkLg2) return -1;
    const bytes = 2 ** lg2;
    if (this.pagesInUse * 4096 + bytes > this.maxBytes) return -1;

    let pa = this.takeFree(lg2);
    if (pa < 0) pa = this.carve(bytes);

    const c = this.chunkIndex(pa);
    const words = this.chunks[c]!;
    const w = this.wordIndexIn(pa, c);
    words.fill(0, w, w + (bytes >>> 2));
    this.pageMeta[c]![(pa - this.chunkPa(c)) / 4096] = lg2 - 11;
    this.pagesInUse += bytes / 4096;
    return pa;
  }

  /** Free a block returned by {@link alloc}. Throws on a PA that is not an allocated block. */
  free(pa: number): void {
    const lg2 = this.blockLg2(pa);
    if (lg2 < 0) throw new RangeError(`free of 0x${pa.toString(16)}, which is not an allocated table`);
    const c = this.chunkIndex(pa);
    this.pageMeta[c]![(pa - this.chunkPa(c)) / 4096] = 0;
    this.pagesInUse -= 2 ** lg2 / 4096;
    this.freeLists[lg2]!.push(pa);
  }

  /** lg2 size of the allocated block starting at pa, or -1. */
  blockLg2(pa: number): number {
    if (!this.contains(pa) || pa % 4096 !== 0) return -1;
    const c = this.chunkIndex(pa);
    const m = this.pageMeta[c]![(pa - this.chunkPa(c)) / 4096]!;
    return m === 0 ? -1 : m + 11;
  }

  /** True if pa lies inside the arenas (allocated or not). */
  contains(pa: number): boolean {
    return pa >= this.basePa && pa < this.endPa;
  }

  /** The arena holding pa (for hot loops: cache it with {@link wordIndex}). */
  words(pa: number): Int32Array {
    const c = this.chunkIndex(pa);
    const w = this.chunks[c];
    if (w === undefined || pa < this.basePa) throw new RangeError(`PA 0x${pa.toString(16)} is outside table memory`);
    return w;
  }

  /** Index in {@link words}(pa) of the 32-bit word at pa (pa must be 4-byte aligned). */
  wordIndex(pa: number): number {
    return this.wordIndexIn(pa, this.chunkIndex(pa));
  }

  /* ---- by-address access for hardware models and tools ---- */

  read32(pa: number): number {
    return this.words(pa)[this.wordIndex(pa)]!;
  }

  write32(pa: number, v: number): void {
    this.words(pa)[this.wordIndex(pa)] = v;
  }

  /** Low / high word of the 64-bit little-endian value at pa (8-byte aligned). */
  read64Lo(pa: number): number {
    return this.read32(pa);
  }

  read64Hi(pa: number): number {
    return this.read32(pa + 4);
  }

  write64(pa: number, hi: number, lo: number): void {
    const w = this.words(pa);
    const i = this.wordIndex(pa);
    w[i] = lo;
    w[i + 1] = hi;
  }

  /** Compare-and-exchange the 64-bit value at pa; true if it held old and now holds new. */
  cmpxchg64(pa: number, oldHi: number, oldLo: number, newHi: number, newLo: number): boolean {
    const w = this.words(pa);
    const i = this.wordIndex(pa);
    if (w[i] !== (oldLo | 0) || w[i + 1] !== (oldHi | 0)) return false;
    w[i] = newLo;
    w[i + 1] = newHi;
    return true;
  }

  /** Copy of the bytes at [pa, pa + len), little-endian. */
  readBytes(pa: number, len: number): Uint8Array {
    const out = new Uint8Array(len);
    let done = 0;
    while (done < len) {
      const p = pa + done;
      const c = this.chunkIndex(p);
      const words = this.words(p);
      const off = p - this.chunkPa(c);
      const n = Math.min(len - done, this.chunkBytes - off);
      out.set(new Uint8Array(words.buffer, words.byteOffset + off, n), done);
      done += n;
    }
    return out;
  }

  /** Every allocated block as [pa, lg2size], in address order. */
  allocatedBlocks(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let c = 0; c < this.chunks.length; c++) {
      const meta = this.pageMeta[c]!;
      for (let p = 0; p < meta.length; p++) {
        if (meta[p] !== 0) out.push([this.chunkPa(c) + p * 4096, meta[p]! + 11]);
      }
    }
    return out;
  }

  /* ---- internals ---- */

  private chunkIndex(pa: number): number {
    return Math.floor((pa - this.basePa) / this.chunkBytes);
  }

  private chunkPa(c: number): number {
    return this.basePa + c * this.chunkBytes;
  }

  private wordIndexIn(pa: number, c: number): number {
    return (pa - this.chunkPa(c)) / 4;
  }

  private takeFree(lg2: number): number {
    const list = this.freeLists[lg2]!;
    return list.length === 0 ? -1 : list.pop()!;
  }

  /** Bump-allocate an aligned block; the alignment gap goes to the free lists. */
  private carve(bytes: number): number {
    let pa = Math.ceil(this.bumpPa / bytes) * bytes;
    if (pa + bytes > this.bumpEnd) {
      this.release(this.bumpPa, this.bumpEnd);
      this.chunks.push(new Int32Array(this.chunkBytes >>> 2));
      this.pageMeta.push(new Uint8Array(this.chunkBytes / 4096));
      this.bumpPa = this.chunkPa(this.chunks.length - 1);
      this.bumpEnd = this.bumpPa + this.chunkBytes;
      pa = this.bumpPa;
    }
    this.release(this.bumpPa, pa);
    this.bumpPa = pa + bytes;
    return pa;
  }

  /** Put [start, end) on the free lists as naturally aligned power-of-two blocks. */
  private release(start: number, end: number): void {
    let p = start;
    while (p < end) {
      let lg2 = TABLE_PAGE_LG2;
      while (lg2 < this.chunkLg2 && p % 2 ** (lg2 + 1) === 0 && p + 2 ** (lg2 + 1) <= end) lg2++;
      this.freeLists[lg2]!.push(p);
      p += 2 ** lg2;
    }
  }
}
