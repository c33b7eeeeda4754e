/**
 * struct iopt_pages: the user memory one IOAS_MAP (or MAP_FILE) call refers
 * to, shared by every area made from it (copies included). A page index is
 * pinned once, when its first holder needs it (an area whose domains hold the
 * pfns, or an access), and unpinned when the last lets go; every domain and
 * access sees that same pfn, as the kernel reads pfns back from the storage
 * domain or the pinned xarray rather than pinning again.
 */
import type { IoptArea } from './area.js';
import type { DmaBuf } from './dmabuf.js';
import { fail } from './errors.js';
import type { MemFile, Mm } from './mm.js';
import type { MockDomain } from './mock-domain.js';
import { U64_MAX } from '@genpt/pt-core';
import { PAGE_SIZE } from './uapi.js';

const PAGE = BigInt(PAGE_SIZE);
/**
 * The longest iopt_pages the model takes: byte counts are numbers here. The
 * kernel takes up to SIZE_MAX - PAGE_SIZE and fails when it pins; no mock
 * domain's aperture (2^31) comes near either.
 */
const MAX_LENGTH = BigInt(Number.MAX_SAFE_INTEGER) - PAGE;

export type PagesSource =
  | { type: 'user'; mm: Mm /** page-aligned user VA of index 0 */; uptr: number }
  | { type: 'file'; file: MemFile /** file byte offset of index 0 */; start: number }
  | { type: 'dmabuf'; dmabuf: DmaBuf /** buffer byte offset of index 0 */; start: number };

interface Pinned {
  pfn: number;
  holders: number;
}

export class IoptPages {
  readonly source: PagesSource;
  readonly npages: number;
  readonly writable: boolean;
  private readonly pinned = new Map<number, Pinned>();
  /** kref: areas (and in-flight copies) using these pages. */
  refs = 1;
  /** dma-buf imports: revoked (phys.len == 0) once the exporter revoked them. */
  dmabufRevoked = false;
  /** dma-buf imports: the (area, domain) pairs mapping these pages (pages->dmabuf.tracker). */
  readonly tracker: Array<{ area: IoptArea; domain: MockDomain }> = [];

  private constructor(source: PagesSource, npages: number, writable: boolean) {
    this.source = source;
    this.npages = npages;
    this.writable = writable;
  }

  /**
   * iopt_alloc_user_pages(): uptr (a u64) may be unaligned; returns pages and
   * the start byte. The page-aligned base is kept as a number, which is exact
   * for any u64 multiple of PAGE_SIZE; nothing is mapped above 2^47, so any
   * access through such a base faults.
   */
  static user(mm: Mm, uptr: bigint, length: bigint, writable: boolean): { pages: IoptPages; startByte: number } {
    if (length === 0n || length > MAX_LENGTH) fail('EINVAL', 'length');
    if (uptr + length > U64_MAX) fail('EOVERFLOW', 'user VA + length');
    const startByte = Number(uptr % PAGE);
    const npages = Math.ceil((Number(length) + startByte) / PAGE_SIZE);
    return { pages: new IoptPages({ type: 'user', mm, uptr: Number(uptr - BigInt(startByte)) }, npages, writable), startByte };
  }

  /** iopt_alloc_file_pages(): start is a u64 file offset (its page-aligned part is exact as a number). */
  static file(file: MemFile, start: bigint, length: bigint, writable: boolean): { pages: IoptPages; startByte: number } {
    if (length === 0n || length > MAX_LENGTH) fail('EINVAL', 'length');
    const startByte = Number(start % PAGE);
    const npages = Math.ceil((Number(length) + startByte) / PAGE_SIZE);
    return { pages: new IoptPages({ type: 'file', file, start: Number(start - BigInt(startByte)) }, npages, writable), startByte };
  }

  /**
   * iopt_alloc_dmabuf_pages(): import [start, start + length) of a dma-buf.
   * ENODEV while the exporter has it revoked.
   */
  static dmabuf(dmabuf: DmaBuf, start: bigint, length: bigint, writable: boolean): { pages: IoptPages; startByte: number } {
    if (BigInt(dmabuf.size) <= start + length - 1n) fail('EINVAL', 'range past the end of the dma-buf');
    // start is now below the buffer's size (at most 2 MiB).
    const startByte = Number(start % PAGE);
    const npages = Math.ceil((Number(length) + startByte) / PAGE_SIZE);
    if (dmabuf.revoked) fail('ENODEV', 'dma-buf is revoked');
    const pages = new IoptPages({ type: 'dmabuf', dmabuf, start: Number(start) - startByte }, npages, writable);
    dmabuf.importers.add(pages);
    return { pages, startByte };
  }

  /** iopt_put_pages(): the last reference detaches a dma-buf import. */
  put(): void {
    if (--this.refs === 0 && this.source.type === 'dmabuf') this.source.dmabuf.importers.delete(this);
  }

  get isDmabuf(): boolean {
    return this.source.type === 'dmabuf';
  }

  /** iopt_revoke_notify(): unmap every tracked area from its domain, once. */
  revokeNotify(): void {
    if (this.dmabufRevoked) return;
    for (const { area, domain } of this.tracker) {
      const got = domain.unmap(area.start, area.length);
      if (got !== area.length) throw new Error('dma-buf revoke unmapped the wrong length');
    }
    this.dmabufRevoked = true;
  }

  /** The pfn of a pinned index (what a storage domain or the xarray would hand back). */
  pinnedPfn(index: number): number | undefined {
    return this.pinned.get(index)?.pfn;
  }

  /** Pin the pages of [start, last] from their source (pfn_reader_user_pin). */
  private pinSource(start: number, last: number): number[] {
    const n = last - start + 1;
    const src = this.source;
    if (src.type === 'user') {
      // The mm that made the mapping may be gone (mmget_not_zero fails).
      if (src.mm.dead) fail('EFAULT', 'the mm that owns these pages has exited');
      return src.mm.pinUserPages(src.uptr + start * PAGE_SIZE, n, this.writable);
    }
    if (src.type === 'dmabuf') throw new Error('dma-buf pages are not pinned');
    // memfd_pin_folios() refuses a range past the end of the file.
    const first = src.start + start * PAGE_SIZE;
    if (first + n * PAGE_SIZE > src.file.size) fail('EINVAL', 'range past the end of the file');
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const pfn = src.file.getPage(first / PAGE_SIZE + i);
      src.file.phys.pin(pfn);
      out.push(pfn);
    }
    return out;
  }

  /**
   * Become a holder of [start, last]: pin what is not pinned yet. All or
   * nothing; returns the pfns.
   */
  acquire(start: number, last: number): number[] {
    if (start < 0 || last >= this.npages || last < start) throw new Error('page index range out of bounds');
    const src = this.source;
    if (src.type === 'dmabuf') {
      // MMIO-like memory: no pins, the pfns follow from the buffer's address.
      const first = src.dmabuf.pfn + src.start / PAGE_SIZE;
      return Array.from({ length: last - start + 1 }, (_, k) => first + start + k);
    }
    // Pin each run of not-yet-pinned indexes from the source.
    const fresh: Array<[number, number[]]> = [];
    try {
      let i = start;
      while (i <= last) {
        if (this.pinned.has(i)) {
          i++;
          continue;
        }
        let j = i;
        while (j + 1 <= last && !this.pinned.has(j + 1)) j++;
        fresh.push([i, this.pinSource(i, j)]);
        i = j + 1;
      }
    } catch (e) {
      for (const [, pfns] of fresh) for (const pfn of pfns) this.physOf().unpin(pfn);
      throw e;
    }
    for (const [first, pfns] of fresh) {
      pfns.forEach((pfn, k) => {
        this.pinned.set(first + k, { pfn, holders: 0 });
      });
    }
    const out: number[] = [];
    for (let i = start; i <= last; i++) {
      const p = this.pinned.get(i)!;
      p.holders++;
      out.push(p.pfn);
    }
    return out;
  }

  /** Stop holding [start, last]; the last holder unpins. */
  release(start: number, last: number): void {
    if (this.source.type === 'dmabuf') return;
    for (let i = start; i <= last; i++) {
      const p = this.pinned.get(i);
      if (p === undefined || p.holders <= 0) throw new Error(`release of unheld page index ${i}`);
      if (--p.holders === 0) {
        this.physOf().unpin(p.pfn);
        this.pinned.delete(i);
      }
    }
  }

  private physOf() {
    const src = this.source;
    if (src.type === 'dmabuf') throw new Error('dma-buf pages have no pins');
    return src.type === 'user' ? src.mm.phys : src.file.phys;
  }

  /** Indexes pinned right now (for leak checks). */
  get pinnedCount(): number {
    return this.pinned.size;
  }

  /**
   * iopt_pages_rw_access(): copy to/from the bytes [startByte, startByte +
   * length) of these pages. The fast path uses the owner's address space
   * directly; another process (or the test's slow-path flag) goes through the
   * pinned pfns, pinning temporarily where nothing holds them.
   */
  rw(current: Mm, startByte: number, data: Uint8Array, dataOffset: number, length: number, write: boolean, slowPath: boolean): void {
    if (write && !this.writable) fail('EPERM', 'pages are not writable');
    const src = this.source;
    if (src.type === 'dmabuf') fail('EINVAL', 'no CPU access to dma-buf imports');
    if (src.type === 'user' && !slowPath && current === src.mm) {
      if (write) src.mm.write(src.uptr + startByte, data.subarray(dataOffset, dataOffset + length));
      else data.set(src.mm.read(src.uptr + startByte, length), dataOffset);
      return;
    }
    const phys = this.physOf();
    let done = 0;
    while (done < length) {
      const byte = startByte + done;
      const index = Math.floor(byte / PAGE_SIZE);
      const off = byte % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, length - done);
      const pfn = this.acquire(index, index)[0]!;
      try {
        if (write) phys.write(pfn, off, data, dataOffset + done, n);
        else phys.read(pfn, off, data, dataOffset + done, n);
      } finally {
        this.release(index, index);
      }
      done += n;
    }
  }
}
