/**
 * The user memory the selftest maps into an IOAS: physical pages with pin
 * counts and contents, memfd/shmem objects, and a process address space with
 * shared, private (copy-on-write) and hugetlb mappings. Enough of mm/ for the
 * behaviour iommufd depends on: pinning faults pages in and fails with EFAULT
 * on holes or a dead mm, a long-term read pin unshares a private file page,
 * hugetlb pages are physically contiguous compound pages.
 */
import { fail } from './errors.js';
import { HUGEPAGE_SIZE, PAGE_SIZE } from './uapi.js';

const HPAGE_NR = HUGEPAGE_SIZE / PAGE_SIZE;
/** x86-64's TASK_SIZE_MAX: user space ends a page below 2^47, so every user address is exact as a number. */
const TASK_SIZE = 2 ** 47 - PAGE_SIZE;

export interface PhysPage {
  readonly pfn: number;
  /** Part of a hugetlb folio (the selftest's refcount check skips these). */
  readonly compound: boolean;
  /** FOLL_PIN references (page_ref_count / GUP_PIN_COUNTING_BIAS). */
  pins: number;
  data: Uint8Array | null;
}

/**
 * Physical memory. Small pages come from a fragmented allocator (two
 * consecutive allocations are never adjacent, as on a machine that has been
 * up a while); hugetlb folios are 2 MiB, naturally aligned and contiguous.
 */
export class PhysMemory {
  private readonly pages = new Map<number, PhysPage>();
  // 4 GiB and 1 TiB: below the mock format's 51-bit output address limit.
  private nextPfn = 0x100000;
  private nextHugePfn = 0x10000000;

  private add(pfn: number, compound: boolean): void {
    this.pages.set(pfn, { pfn, compound, pins: 0, data: null });
  }

  allocPage(): number {
    const pfn = this.nextPfn;
    this.nextPfn += 2;
    this.add(pfn, false);
    return pfn;
  }

  /** A 2 MiB folio; returns its first pfn. */
  allocHuge(): number {
    const pfn = this.nextHugePfn;
    this.nextHugePfn += 2 * HPAGE_NR;
    for (let i = 0; i < HPAGE_NR; i++) this.add(pfn + i, true);
    return pfn;
  }

  /** Physically contiguous small pages (a kzalloc of up to 2 MiB). */
  allocContig(npages: number): number {
    const pfn = this.nextHugePfn;
    this.nextHugePfn += 2 * HPAGE_NR * Math.ceil(npages / HPAGE_NR);
    for (let i = 0; i < npages; i++) this.add(pfn + i, false);
    return pfn;
  }

  page(pfn: number): PhysPage {
    const p = this.pages.get(pfn);
    if (p === undefined) throw new Error(`no physical page ${pfn.toString(16)}`);
    return p;
  }

  pin(pfn: number): void {
    this.page(pfn).pins++;
  }

  unpin(pfn: number): void {
    const p = this.page(pfn);
    if (p.pins <= 0) throw new Error(`unpin of unpinned page ${pfn.toString(16)}`);
    p.pins--;
  }

  /** FOLL_PIN references per pinned page, by pfn (a snapshot for checks that nothing changed). */
  pinCounts(): Map<number, number> {
    const out = new Map<number, number>();
    for (const p of this.pages.values()) if (p.pins) out.set(p.pfn, p.pins);
    return out;
  }

  /** Total FOLL_PIN references on every page (zero once everything is released). */
  totalPins(): number {
    let n = 0;
    for (const p of this.pages.values()) n += p.pins;
    return n;
  }

  read(pfn: number, offset: number, out: Uint8Array, outOffset: number, len: number): void {
    const d = this.page(pfn).data;
    if (d === null) out.fill(0, outOffset, outOffset + len);
    else out.set(d.subarray(offset, offset + len), outOffset);
  }

  write(pfn: number, offset: number, src: Uint8Array, srcOffset: number, len: number): void {
    const p = this.page(pfn);
    if (p.data === null) p.data = new Uint8Array(PAGE_SIZE);
    p.data.set(src.subarray(srcOffset, srcOffset + len), offset);
  }

  copyPage(fromPfn: number, toPfn: number): void {
    const d = this.page(fromPfn).data;
    if (d !== null) this.page(toPfn).data = d.slice();
  }
}

/** A shmem object: a memfd, or what backs a MAP_SHARED|MAP_ANONYMOUS mapping. */
export class MemFile {
  readonly phys: PhysMemory;
  readonly hugetlb: boolean;
  private pages: Array<number | undefined> = [];
  size: number;

  constructor(phys: PhysMemory, size: number, hugetlb = false) {
    this.phys = phys;
    this.size = size;
    this.hugetlb = hugetlb;
  }

  /** The page at a page index, allocated on first touch. */
  getPage(index: number): number {
    let pfn = this.pages[index];
    if (pfn === undefined) {
      if (this.hugetlb) {
        const base = index - (index % HPAGE_NR);
        const first = this.phys.allocHuge();
        for (let i = 0; i < HPAGE_NR; i++) this.pages[base + i] = first + i;
        pfn = this.pages[index]!;
      } else {
        pfn = this.phys.allocPage();
        this.pages[index] = pfn;
      }
    }
    return pfn;
  }

  /** ftruncate(): pages past the new size are dropped. */
  truncate(size: number): void {
    this.size = size;
    this.pages.length = Math.min(this.pages.length, Math.ceil(size / PAGE_SIZE));
  }
}

export interface MmapOptions {
  /** PROT_READ only when false; default true (PROT_READ | PROT_WRITE). */
  write?: boolean;
  /** MAP_SHARED (default) or MAP_PRIVATE. */
  shared?: boolean;
  /** MAP_HUGETLB: 2 MiB aligned, contiguous compound pages. */
  hugetlb?: boolean;
  /** MAP_POPULATE: fault every page in now. */
  populate?: boolean;
  /** Map this file (memfd) at `offset` instead of anonymous memory. */
  file?: MemFile;
  offset?: number;
  /** MAP_FIXED at this address. */
  addr?: number;
}

interface Vma {
  start: number;
  end: number;
  write: boolean;
  shared: boolean;
  file: MemFile;
  /** Page index in `file` of `start`. */
  pgoff: number;
  /** MAP_PRIVATE: pages this mapping owns (written or unshared), by file page index. */
  cow: Map<number, number>;
}

/** A process address space (struct mm_struct) with the GUP calls iommufd makes. */
export class Mm {
  readonly phys: PhysMemory;
  private vmas: Vma[] = [];
  private nextAddr = 0x7f0000000000;
  /** The process exited: mmget_not_zero() fails, remote pins get EFAULT. */
  dead = false;

  constructor(phys: PhysMemory) {
    this.phys = phys;
  }

  mmap(length: number, opts: MmapOptions = {}): number {
    const hugetlb = opts.hugetlb ?? false;
    const align = hugetlb ? HUGEPAGE_SIZE : PAGE_SIZE;
    if (!Number.isSafeInteger(length) || length <= 0) fail('EINVAL', 'mmap length');
    const len = Math.ceil(length / align) * align;
    const offset = opts.offset ?? 0;
    if (offset % PAGE_SIZE) fail('EINVAL', 'mmap offset');
    if (opts.addr !== undefined && (!Number.isSafeInteger(opts.addr) || opts.addr < 0 || opts.addr % align)) {
      fail('EINVAL', 'mmap address');
    }
    const start = opts.addr ?? Math.ceil(this.nextAddr / align) * align;
    if (start + len > TASK_SIZE) fail('ENOMEM', 'mmap past the end of user space');
    if (opts.addr !== undefined) {
      this.munmap(start, len);
    } else {
      // Leave a guard gap so separate mappings never touch.
      this.nextAddr = start + len + HUGEPAGE_SIZE;
    }
    const shared = opts.shared ?? true;
    const file = opts.file ?? new MemFile(this.phys, len, hugetlb);
    const vma: Vma = {
      start,
      end: start + len,
      write: opts.write ?? true,
      shared,
      file,
      pgoff: opts.file ? offset / PAGE_SIZE : 0,
      cow: new Map(),
    };
    this.insert(vma);
    if (opts.populate) for (let va = start; va < start + len; va += PAGE_SIZE) this.fault(va, false, false);
    return start;
  }

  private insert(vma: Vma): void {
    let i = 0;
    while (i < this.vmas.length && this.vmas[i]!.start < vma.start) i++;
    this.vmas.splice(i, 0, vma);
  }

  /** munmap(): remove [addr, addr + length), splitting mappings it cuts. */
  munmap(addr: number, length: number): void {
    if (addr % PAGE_SIZE || length <= 0) fail('EINVAL', 'munmap');
    const end = addr + Math.ceil(length / PAGE_SIZE) * PAGE_SIZE;
    const out: Vma[] = [];
    for (const v of this.vmas) {
      if (v.end <= addr || v.start >= end) {
        out.push(v);
        continue;
      }
      if (v.start < addr) out.push({ ...v, end: addr });
      if (v.end > end) out.push({ ...v, start: end, pgoff: v.pgoff + (end - v.start) / PAGE_SIZE });
    }
    this.vmas = out;
  }

  /**
   * fork(): the child shares MAP_SHARED memory; private mappings get copies
   * of the pages the parent owns (what copy-on-write looks like from outside).
   */
  fork(): Mm {
    const child = new Mm(this.phys);
    child.nextAddr = this.nextAddr;
    for (const v of this.vmas) {
      const cow = new Map<number, number>();
      for (const [idx, pfn] of v.cow) {
        const copy = this.phys.allocPage();
        this.phys.copyPage(pfn, copy);
        cow.set(idx, copy);
      }
      child.vmas.push({ ...v, cow });
    }
    return child;
  }

  /** The process exits; pinned pages stay pinned, the address space is gone. */
  exit(): void {
    this.dead = true;
    this.vmas = [];
  }

  private findVma(va: number): Vma | undefined {
    for (const v of this.vmas) if (va >= v.start && va < v.end) return v;
    return undefined;
  }

  /**
   * The page at va after a fault (handle_mm_fault): allocated on first touch;
   * a write to a private mapping, or an unshare request (a long-term pin),
   * gives the mapping its own copy of a file page.
   */
  private fault(va: number, write: boolean, unshare: boolean): number {
    const v = this.findVma(va);
    if (v === undefined || (write && !v.write)) fail('EFAULT', `no ${write ? 'writable ' : ''}mapping at 0x${va.toString(16)}`);
    const idx = v.pgoff + Math.floor((va - v.start) / PAGE_SIZE);
    if (idx * PAGE_SIZE >= v.file.size) fail('EFAULT', 'past the end of the file');
    if (v.shared) return v.file.getPage(idx);
    const own = v.cow.get(idx);
    if (own !== undefined) return own;
    const filePfn = v.file.getPage(idx);
    if (!write && !unshare) return filePfn;
    const copy = this.phys.allocPage();
    this.phys.copyPage(filePfn, copy);
    v.cow.set(idx, copy);
    return copy;
  }

  /**
   * How many of the bytes [va, va + length) a copy from (or, with write, to)
   * user memory reaches before it faults: the run of mapped pages (writable
   * ones for write) inside their file. Nothing is faulted in.
   */
  accessibleBytes(va: number, length: number, write: boolean): number {
    let done = 0;
    while (done < length) {
      const cur = va + done;
      const v = this.findVma(cur);
      if (v === undefined || (write && !v.write)) break;
      // Pages at or past the end of the file fault.
      const end = Math.min(v.end, v.start + (Math.ceil(v.file.size / PAGE_SIZE) - v.pgoff) * PAGE_SIZE);
      if (end <= cur) break;
      done += Math.min(end - cur, length - done);
    }
    return done;
  }

  /** get_user_pages_fast() of one page without a pin: the pfn mapped at va now. */
  getUserPage(va: number, write = false): number {
    return this.fault(va - (va % PAGE_SIZE), write, false);
  }

  /**
   * pin_user_pages(FOLL_LONGTERM): pin npages from page-aligned va. All or
   * nothing: EFAULT (with nothing left pinned) if any page is missing.
   */
  pinUserPages(va: number, npages: number, write: boolean): number[] {
    const out: number[] = [];
    try {
      for (let i = 0; i < npages; i++) {
        // A long-term pin must not see a page a later write would replace.
        const pfn = this.fault(va + i * PAGE_SIZE, write, true);
        this.phys.pin(pfn);
        out.push(pfn);
      }
    } catch (e) {
      for (const pfn of out) this.phys.unpin(pfn);
      throw e;
    }
    return out;
  }

  /** copy_from_user(). */
  read(va: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const cur = va + done;
      const off = cur % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, length - done);
      this.phys.read(this.fault(cur, false, false), off, out, done, n);
      done += n;
    }
    return out;
  }

  /** copy_to_user(). */
  write(va: number, data: Uint8Array): void {
    let done = 0;
    while (done < data.length) {
      const cur = va + done;
      const off = cur % PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - off, data.length - done);
      this.phys.write(this.fault(cur, true, false), off, data, done, n);
      done += n;
    }
  }

  /** memset(). */
  fill(va: number, length: number, value: number): void {
    this.write(va, new Uint8Array(length).fill(value));
  }
}
