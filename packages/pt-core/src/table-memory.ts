/**
 * Table memory: zeroed, naturally aligned tables addressed by physical
 * address, held in one Int32Array arena (no JS object per table).
 *
 * The arena is reserved up front at its maximum size; the OS only backs the
 * pages that get written (measured on Linux: a 1 GiB reservation costs no
 * resident memory until touched), so a large default costs nothing and a
 * table's words never move. A 64-bit entry is two int32 words, low word
 * first: on the little-endian hosts Node runs on, the arena's bytes are
 * exactly the table image the kernel would write. Hardware models read the
 * same memory by physical address.
 */

import { argDescribe, argInt, argObject } from './arg.js';
import { PtError } from './errno.js';

/** Smallest allocation and the unit of {@link TableMemory.pagesInUse}. */
export const TABLE_PAGE_LG2 = 12;

export interface TableMemoryOptions {
  /** Physical address of the arena; 4 KiB aligned. Default 2^40. */
  basePa?: number;
  /** Size of the arena: allocations past it fail with ENOMEM. Default 256 MiB, at most 4 GiB. */
  maxBytes?: number;
}

/** Allocator and accessor for the memory page tables live in. */
export class TableMemory {
  readonly basePa: number;
  readonly maxBytes: number;
  /** The arena. Word i holds bytes [basePa + 4i, basePa + 4i + 4). */
  readonly words: Int32Array;
  /** The same arena as 64-bit slots, for bulk fills of entries. */
  readonly entries64: Float64Array;
  /** Table pages (4 KiB units) currently allocated. */
  pagesInUse = 0;
  /** Allocation attempts so far, including failed ones. */
  allocCalls = 0;

  /**
   * Per 4 KiB page: 0 = free, else (lg2 size - 11) at a block's first page.
   * Read by the walkers' table pointer check; only alloc/free write it.
   */
  readonly pageMeta: Uint8Array;
  /**
   * Test hook: called after every item store the hitless ops (cut, split,
   * collapse) make to a live table, with the item's PA, and after every
   * free with the block's PA, so a test can walk the table at each
   * intermediate state. Unset outside such tests.
   */
  storeHook: ((pa: number, what: 'store' | 'free') => void) | undefined = undefined;
  /**
   * Pages of a loaded image ({@link TableMemory.fromImage}) that no table
   * owns yet: never handed out by alloc, adopted one block at a time by
   * {@link claim} (PtIommu.restore), returned by {@link releaseReserved}.
   * Undefined for memory that never held an image.
   */
  private reserved: Uint8Array | undefined = undefined;
  /** Free blocks by lg2 size (PAs). */
  private readonly freeLists: number[][] = [];
  /** Byte offset of the never-used part of the arena. */
  private bump = 0;
  private failAt = 0;
  private failEvery = false;

  constructor(opts: TableMemoryOptions = {}) {
    argObject(opts, 'TableMemory', 'opts');
    this.basePa = opts.basePa ?? 2 ** 40;
    argInt(this.basePa, 0, Number.MAX_SAFE_INTEGER - 2 ** 32, 'TableMemory', 'opts.basePa');
    if (this.basePa % 4096 !== 0)
      throw new PtError('EINVAL', `TableMemory: opts.basePa 0x${this.basePa.toString(16)} is not 4 KiB aligned`);
    const max = argInt(opts.maxBytes ?? 2 ** 28, 4096, 2 ** 32 - 4096, 'TableMemory', 'opts.maxBytes');
    this.maxBytes = Math.floor(max / 4096) * 4096;
    this.words = new Int32Array(this.maxBytes / 4);
    this.entries64 = new Float64Array(this.words.buffer);
    this.pageMeta = new Uint8Array(this.maxBytes / 4096);
    for (let i = 0; i <= 32; i++) this.freeLists.push([]);
  }

  /**
   * Memory holding a raw image of table memory (`genpt dump --image`, a
   * kexec'd kernel's preserved pages): its bytes at basePa onwards. Every
   * whole page of the image is reserved: alloc never hands it out, a restore
   * claims the tables it adopts, {@link releaseReserved} frees the rest.
   * maxBytes defaults to the image (page rounded) plus the usual 256 MiB.
   */
  static fromImage(bytes: Uint8Array, opts: TableMemoryOptions = {}): TableMemory {
    if (!(bytes instanceof Uint8Array)) throw new PtError('EINVAL', 'TableMemory.fromImage: bytes must be a Uint8Array');
    argObject(opts, 'TableMemory.fromImage', 'opts');
    const pages = Math.ceil(bytes.length / 4096);
    const maxBytes = opts.maxBytes ?? Math.min(pages * 4096 + 2 ** 28, 2 ** 32 - 4096);
    if (maxBytes < bytes.length) {
      throw new PtError('EINVAL', `TableMemory.fromImage: opts.maxBytes ${maxBytes} is smaller than the ${bytes.length} byte image`);
    }
    const mem = new TableMemory({ ...opts, maxBytes });
    new Uint8Array(mem.words.buffer).set(bytes);
    // A partial last page is kept out of use but can never be claimed: a
    // table in it would be truncated.
    mem.bump = pages * 4096;
    const reserved = new Uint8Array(mem.pageMeta.length);
    reserved.fill(1, 0, Math.floor(bytes.length / 4096));
    mem.reserved = reserved;
    return mem;
  }

  /** True if the naturally aligned block of 2^lg2sz bytes at pa is wholly reserved image pages (claimable). */
  claimable(pa: number, lg2sz: number): boolean {
    const r = this.reserved;
    if (r === undefined || !Number.isInteger(lg2sz) || lg2sz < TABLE_PAGE_LG2 || lg2sz > 31) return false;
    const bytes = 2 ** lg2sz;
    if (!this.contains(pa) || pa % bytes !== 0 || !this.contains(pa + bytes - 1)) return false;
    const first = (pa - this.basePa) / 4096;
    for (let p = first; p < first + bytes / 4096; p++) if (r[p] !== 1) return false;
    return true;
  }

  /** Adopt a {@link claimable} block as an allocated table block, contents kept. EINVAL if it is not claimable. */
  claim(pa: number, lg2sz: number): void {
    if (!this.claimable(pa, lg2sz)) {
      throw new PtError('EINVAL', `TableMemory.claim: ${paText(pa)} (2^${lg2sz} bytes) is not a reserved image block`);
    }
    const first = (pa - this.basePa) / 4096;
    this.reserved!.fill(0, first, first + 2 ** lg2sz / 4096);
    this.pageMeta[first] = lg2sz - 11;
    this.pagesInUse += 2 ** lg2sz / 4096;
  }

  /** Undo {@link claim} (a restore that failed after claiming): the block is reserved again. */
  unclaim(pa: number): void {
    const lg2 = this.blockLg2(pa);
    if (lg2 < 0 || this.reserved === undefined) throw new PtError('EINVAL', `TableMemory.unclaim: ${paText(pa)} is not a claimed block`);
    const first = (pa - this.basePa) / 4096;
    this.pageMeta[first] = 0;
    this.reserved.fill(1, first, first + 2 ** lg2 / 4096);
    this.pagesInUse -= 2 ** lg2 / 4096;
  }

  /** Image pages still reserved (claimed by no restore). */
  get reservedPages(): number {
    const r = this.reserved;
    if (r === undefined) return 0;
    let n = 0;
    for (let p = 0; p < r.length; p++) n += r[p]!;
    return n;
  }

  /** Return every still reserved image page to the allocator (zeroed when allocated), once all restores are done. */
  releaseReserved(): void {
    const r = this.reserved;
    if (r === undefined) return;
    this.reserved = undefined;
    let p = 0;
    while (p < r.length) {
      if (r[p] !== 1) {
        p++;
        continue;
      }
      let q = p;
      while (q < r.length && r[q] === 1) q++;
      this.release(this.basePa + p * 4096, this.basePa + q * 4096);
      p = q;
    }
  }

  /** One past the last physical address of the arena. */
  get endPa(): number {
    return this.basePa + this.maxBytes;
  }

  /** Bytes of the arena ever handed out (the high-water mark). */
  get touchedBytes(): number {
    return this.bump;
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
    argInt(lg2sz, 0, 64, 'TableMemory.alloc', 'lg2sz');
    const calls = ++this.allocCalls;
    if (this.failAt !== 0 && calls >= this.failAt) {
      if (!this.failEvery) this.failAt = 0;
      return -1;
    }
    const lg2 = Math.max(lg2sz, TABLE_PAGE_LG2);
    if (lg2 > 31) return -1;
    const bytes = 2 ** lg2;
    let pa = this.takeFree(lg2);
    if (pa < 0) pa = this.carve(bytes);
    if (pa < 0) return -1;
    const w = (pa - this.basePa) / 4;
    this.words.fill(0, w, w + bytes / 4);
    this.pageMeta[(pa - this.basePa) / 4096] = lg2 - 11;
    this.pagesInUse += bytes / 4096;
    return pa;
  }

  /** Free a block returned by {@link alloc}. Throws on a PA that is not an allocated block. */
  free(pa: number): void {
    const lg2 = this.blockLg2(pa);
    if (lg2 < 0) throw new PtError('EINVAL', `TableMemory.free: ${paText(pa)} is not an allocated table`);
    this.pageMeta[(pa - this.basePa) / 4096] = 0;
    this.pagesInUse -= 2 ** lg2 / 4096;
    this.freeLists[lg2]!.push(pa);
    if (this.storeHook !== undefined) this.storeHook(pa, 'free');
  }

  /** A hitless op stored the item at pa (runs {@link storeHook}). */
  noteStore(pa: number): void {
    if (this.storeHook !== undefined) this.storeHook(pa, 'store');
  }

  /** lg2 size of the allocated block starting at pa, or -1. */
  blockLg2(pa: number): number {
    if (!this.contains(pa) || pa % 4096 !== 0) return -1;
    const m = this.pageMeta[(pa - this.basePa) / 4096]!;
    return m === 0 ? -1 : m + 11;
  }

  /** True if pa lies inside the arena (allocated or not). */
  contains(pa: number): boolean {
    return typeof pa === 'number' && pa >= this.basePa && pa < this.basePa + this.maxBytes;
  }

  /** Index in {@link words} of the 32-bit word at pa (4-byte aligned, inside the arena). */
  wordIndex(pa: number): number {
    if (!(typeof pa === 'number' && pa >= this.basePa && pa < this.basePa + this.maxBytes && pa % 4 === 0)) {
      throw new PtError('EFAULT', `PA ${paText(pa)} is outside table memory or not aligned`);
    }
    return (pa - this.basePa) >>> 2;
  }

  /* ---- by-address access for hardware models and tools ---- */

  read32(pa: number): number {
    return this.words[this.wordIndex(pa)]!;
  }

  write32(pa: number, v: number): void {
    checkWord(v, 'write32', 'v');
    this.words[this.wordIndex(pa)] = v;
  }

  /** Low / high word of the 64-bit little-endian value at pa (8-byte aligned). */
  read64Lo(pa: number): number {
    return this.read32(pa);
  }

  read64Hi(pa: number): number {
    return this.read32(pa + 4);
  }

  write64(pa: number, hi: number, lo: number): void {
    checkWord(hi, 'write64', 'hi');
    checkWord(lo, 'write64', 'lo');
    const i = this.wordIndex(pa);
    this.words[i] = lo;
    this.words[i + 1] = hi;
  }

  /** Compare-and-exchange the 64-bit value at pa; true if it held old and now holds new. */
  cmpxchg64(pa: number, oldHi: number, oldLo: number, newHi: number, newLo: number): boolean {
    checkWord(oldHi, 'cmpxchg64', 'oldHi');
    checkWord(oldLo, 'cmpxchg64', 'oldLo');
    checkWord(newHi, 'cmpxchg64', 'newHi');
    checkWord(newLo, 'cmpxchg64', 'newLo');
    const i = this.wordIndex(pa);
    const w = this.words;
    if (w[i] !== (oldLo | 0) || w[i + 1] !== (oldHi | 0)) return false;
    w[i] = newLo;
    w[i + 1] = newHi;
    return true;
  }

  /** Copy of the bytes at [pa, pa + len), little-endian. */
  readBytes(pa: number, len: number): Uint8Array {
    argInt(len, 0, this.maxBytes, 'TableMemory.readBytes', 'len');
    if (!this.contains(pa) || (len > 0 && !this.contains(pa + len - 1))) {
      throw new PtError('EFAULT', `TableMemory.readBytes: [${paText(pa)}, +${len}) is outside table memory`);
    }
    const off = pa - this.basePa;
    return new Uint8Array(this.words.buffer, this.words.byteOffset + off, len).slice();
  }

  /** Every allocated block as [pa, lg2size], in address order. */
  allocatedBlocks(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const meta = this.pageMeta;
    const used = this.bump / 4096;
    for (let p = 0; p < used; p++) if (meta[p] !== 0) out.push([this.basePa + p * 4096, meta[p]! + 11]);
    return out;
  }

  /* ---- internals ---- */

  private takeFree(lg2: number): number {
    const list = this.freeLists[lg2]!;
    return list.length === 0 ? -1 : list.pop()!;
  }

  /** Take an aligned block from the untouched part; the alignment gap goes to the free lists. */
  private carve(bytes: number): number {
    // Natural alignment of the PA; basePa is only 4 KiB aligned, so align the PA itself.
    const start = this.basePa + this.bump;
    const pa = Math.ceil(start / bytes) * bytes;
    if (pa + bytes > this.basePa + this.maxBytes) return -1;
    this.release(start, pa);
    this.bump = pa + bytes - this.basePa;
    return pa;
  }

  /** Put [start, end) on the free lists as naturally aligned power-of-two blocks. */
  private release(start: number, end: number): void {
    let p = start;
    while (p < end) {
      let lg2 = TABLE_PAGE_LG2;
      while (lg2 < 31 && p % 2 ** (lg2 + 1) === 0 && p + 2 ** (lg2 + 1) <= end) lg2++;
      this.freeLists[lg2]!.push(p);
      p += 2 ** lg2;
    }
  }
}

/** A 32-bit word as an int32 or a u32 (both name the same bits). */
function checkWord(v: number, where: string, name: string): void {
  argInt(v, -0x80000000, 0xffffffff, `TableMemory.${where}`, name);
}

/** A PA in a message: hex when it is a number. */
function paText(pa: unknown): string {
  return typeof pa === 'number' ? `0x${pa.toString(16)}` : argDescribe(pa);
}

/**
 * A TableMemory for tables of `fmt`: at the format's tableMemoryBasePa when
 * it has one (DART v1's table pointers hold 36 address bits), else the
 * default base; `opts` as for the constructor (an explicit basePa wins).
 */
export function ptTableMemoryFor(fmt: { readonly tableMemoryBasePa?: number }, opts: TableMemoryOptions = {}): TableMemory {
  const basePa = opts.basePa ?? fmt.tableMemoryBasePa;
  return new TableMemory(basePa === undefined ? opts : { ...opts, basePa });
}
