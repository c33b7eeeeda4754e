/**
 * struct io_pagetable (drivers/iommu/iommufd/io_pagetable.c): the IOVA space
 * of an IOAS. Areas map IOVA to user pages; reserved ranges (the domains'
 * apertures, test reservations) and allowed ranges restrict where areas may
 * go; every attached domain holds exactly the areas' mappings, so adding a
 * domain fills it from the areas and adding an area fills every domain.
 */
import {
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_WRITE,
  lastOfBig,
  lowestBitBig,
  maxBig,
  minBig,
  roundupPowOfTwoBig,
  ULONG_MAX,
} from '@genpt/pt-core';
import { IoptArea } from './area.js';
import { fail, IommufdError } from './errors.js';
import { IntervalList, spans, type IntervalNode } from './interval.js';
import type { MockDomain } from './mock-domain.js';
import type { IoptPages } from './pages.js';
import { HUGEPAGE_SIZE, PAGE_SIZE } from './uapi.js';

const PAGE = BigInt(PAGE_SIZE);

export interface IoptReserved extends IntervalNode {
  /** Who reserved it: a domain (its aperture), a device, or null (the test op). */
  owner: unknown;
}

/** What an io_pagetable needs from an access attached to it. */
export interface IoptAccessUser {
  readonly iovaAlignment: bigint;
  /** The access must drop every pin it holds in [iova, iova + length). */
  notifyUnmap(iova: bigint, length: bigint): void;
}

/** One slice of pages to place at consecutive IOVA (struct iopt_pages_list). */
export interface IoptPagesElm {
  pages: IoptPages;
  startByte: number;
  length: number;
}

export class IoPagetable {
  readonly areas = new IntervalList<IoptArea>();
  readonly reserved = new IntervalList<IoptReserved>();
  readonly allowed = new IntervalList<IntervalNode>();
  /** The xarray of domains, kept dense as the kernel keeps it. */
  readonly domains: MockDomain[] = [];
  readonly accesses = new Set<IoptAccessUser>();
  iovaAlignment = 1n;
  disableLargePages = false;

  /* ---- IOVA allocation and checks ---- */

  /** __alloc_iova_check_range(): the aligned start inside [start, last], or undefined. */
  private static fit(start: bigint, last: bigint, length: bigint, align: bigint, pageOffset: bigint): bigint | undefined {
    if (start + align - 1n > ULONG_MAX) return undefined;
    const aligned = ((start + align - 1n) & ~(align - 1n)) | pageOffset;
    if (aligned >= last || last - aligned < length - 1n) return undefined;
    return aligned;
  }

  /**
   * iopt_alloc_iova(): the lowest IOVA, aligned like addr (up to a huge
   * page) and never 0, that is allowed and clear of areas and reservations.
   */
  allocIova(addr: bigint, length: bigint): bigint {
    const pageOffset = addr % PAGE;
    if (length === 0n || length >= ULONG_MAX / 2n) fail('EOVERFLOW', 'length');
    let align = addr === 0n ? roundupPowOfTwoBig(length) : minBig(roundupPowOfTwoBig(length), lowestBitBig(addr));
    const maxAlign = BigInt(HUGEPAGE_SIZE);
    if (align >= maxAlign) align = maxAlign;
    if (align < this.iovaAlignment) fail('EINVAL', 'IOVA alignment below the IOAS alignment');

    const first = PAGE;
    const lastAllowed = ULONG_MAX - PAGE;
    const allowedSpans =
      this.allowed.size === 0 ? [{ isHole: false, start: first, last: lastAllowed }] : spans([this.allowed], first, lastAllowed);
    for (const a of allowedSpans) {
      if (a.isHole || IoPagetable.fit(a.start, a.last, length, align, pageOffset) === undefined) continue;
      for (const h of spans([this.reserved, this.areas], a.start, a.last)) {
        if (!h.isHole) continue;
        const at = IoPagetable.fit(h.start, h.last, length, align, pageOffset);
        if (at !== undefined) return at;
      }
    }
    fail('ENOSPC', 'no IOVA space');
  }

  /** iopt_check_iova(): a fixed IOVA must be aligned, not reserved and not mapped. */
  checkIova(iova: bigint, length: bigint): void {
    if (iova & (this.iovaAlignment - 1n)) fail('EINVAL', 'IOVA not aligned to the IOAS');
    const last = lastOfBig(iova, length);
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    if (this.reserved.first(iova, last)) fail('EINVAL', 'IOVA is reserved');
    if (this.areas.first(iova, last)) fail('EEXIST', 'IOVA already mapped');
  }

  /* ---- map ---- */

  /**
   * iopt_map_pages(): place the slices at dstIova (or an allocated IOVA when
   * undefined) and fill every domain. All or nothing. Consumes the list's
   * page references on success.
   */
  mapPages(list: IoptPagesElm[], length: bigint, dstIova: bigint | undefined, iommuProt: number): bigint {
    if (length & (this.iovaAlignment - 1n) || length === 0n) fail('EINVAL', 'length not aligned to the IOAS');
    let iova: bigint;
    if (dstIova === undefined) {
      const e = list[0]!;
      const src = e.pages.source;
      // The IOVA keeps the alignment of the user address (or file / dma-buf offset).
      const addr = BigInt(src.type === 'user' ? src.uptr : src.start) + BigInt(e.startByte);
      iova = this.allocIova(addr, length);
    } else {
      this.checkIova(dstIova, length);
      iova = dstIova;
    }

    const made: IoptArea[] = [];
    try {
      let cur = iova;
      for (const e of list) {
        made.push(this.insertArea(e, cur, iommuProt));
        cur += BigInt(e.length);
      }
      let filled = 0;
      try {
        for (; filled < made.length; filled++) this.fillDomains(made[filled]!, list[filled]!.pages);
      } catch (err) {
        for (let i = 0; i < filled; i++) this.unfillDomains(made[i]!, list[i]!.pages);
        throw err;
      }
    } catch (err) {
      for (const a of made) this.areas.remove(a);
      throw err;
    }
    made.forEach((a, i) => {
      a.pages = list[i]!.pages;
    });
    return iova;
  }

  /** iopt_insert_area(): an area for one slice, not yet holding its pages. */
  private insertArea(e: IoptPagesElm, iova: bigint, iommuProt: number): IoptArea {
    if (iommuProt & IOMMU_WRITE && !e.pages.writable) fail('EPERM', 'pages are not writable');
    if ((e.startByte % PAGE_SIZE) & Number(minBig(this.iovaAlignment, PAGE) - 1n)) fail('EINVAL', 'page offset not aligned');
    const last = lastOfBig(iova, BigInt(e.length));
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    const area = new IoptArea(iova, last, e.startByte, e.length, iommuProt);
    if (area.pagesLast >= e.pages.npages) fail('EOVERFLOW', 'slice past the pages');
    this.areas.insert(area);
    return area;
  }

  /**
   * Map an area's pfns into one domain (batch_to_domain): one iommu_map per
   * physically contiguous run, or per CPU page when large pages are off.
   */
  private mapArea(area: IoptArea, pages: IoptPages, domain: MockDomain, pfns: readonly number[]): void {
    // A dma-buf is MMIO to the IOMMU: never cached.
    const prot = pages.isDmabuf ? (area.iommuProt & ~IOMMU_CACHE) | IOMMU_MMIO : area.iommuProt;
    let iova = area.start;
    let pageOffset = area.pageOffset;
    let i = 0;
    try {
      while (i < pfns.length) {
        let n = 1;
        while (i + n < pfns.length && pfns[i + n] === pfns[i]! + n) n++;
        const next = minBig(area.last + 1n, iova + BigInt(n * PAGE_SIZE - pageOffset));
        const pa = pfns[i]! * PAGE_SIZE + pageOffset;
        if (this.disableLargePages) {
          for (let off = 0n; iova + off < next; off += PAGE) domain.map(iova + off, pa + Number(off), PAGE, prot);
        } else {
          domain.map(iova, pa, next - iova, prot);
        }
        iova = next;
        pageOffset = 0;
        i += n;
      }
    } catch (err) {
      // batch_iommu_map_small and iommu_map undo their own partial work.
      if (iova !== area.start) this.unmapDomainRange(domain, area.start, iova - 1n);
      throw err;
    }
  }

  /** iommu_unmap_nofail(): a domain must give back exactly what was mapped. */
  private unmapDomainRange(domain: MockDomain, start: bigint, last: bigint): void {
    const len = last - start + 1n;
    const got = domain.unmap(start, len);
    if (got !== len) throw new Error(`domain unmap returned 0x${got.toString(16)}, expected 0x${len.toString(16)}`);
  }

  /**
   * iopt_area_fill_domains(): pin the area's pages and map them into every
   * domain (a revoked dma-buf import is only tracked, not mapped).
   */
  private fillDomains(area: IoptArea, pages: IoptPages): void {
    if (this.domains.length === 0) return;
    if (pages.isDmabuf) for (const domain of this.domains) pages.tracker.push({ area, domain });
    const pfns = pages.acquire(area.pagesStart, area.pagesLast);
    let done = 0;
    try {
      if (!pages.dmabufRevoked) for (; done < this.domains.length; done++) this.mapArea(area, pages, this.domains[done]!, pfns);
    } catch (err) {
      for (let i = 0; i < done; i++) this.unmapDomainRange(this.domains[i]!, area.start, area.last);
      IoPagetable.untrack(pages, area);
      pages.release(area.pagesStart, area.pagesLast);
      throw err;
    }
    area.storageDomain = this.domains[0]!;
  }

  /** iopt_dmabuf_untrack_*(): forget the area's (area, domain) pairs. */
  private static untrack(pages: IoptPages, area: IoptArea, domain?: MockDomain): void {
    for (let i = pages.tracker.length - 1; i >= 0; i--) {
      const t = pages.tracker[i]!;
      if (t.area === area && (domain === undefined || t.domain === domain)) pages.tracker.splice(i, 1);
    }
  }

  /** iopt_area_unfill_domains(): unmap the area from every domain and drop its pins. */
  private unfillDomains(area: IoptArea, pages: IoptPages): void {
    if (area.storageDomain === null) return;
    if (!pages.dmabufRevoked) for (const d of this.domains) this.unmapDomainRange(d, area.start, area.last);
    IoPagetable.untrack(pages, area);
    pages.release(area.pagesStart, area.pagesLast);
    area.storageDomain = null;
  }

  /* ---- unmap ---- */

  /**
   * iopt_unmap_iova_range(): remove every area inside [start, last]. An area
   * only partly inside fails ENOENT; accesses pinning an area are told to
   * let go first. Returns the bytes unmapped; on error throws with what was
   * done so far in `unmapped`.
   */
  unmapRange(start: bigint, last: bigint): bigint {
    let unmapped = 0n;
    let tries = 0;
    try {
      for (;;) {
        const area = this.areas.first(start, last);
        if (area === undefined) break;
        if (area.pages === null || area.numLocks) fail('EBUSY', 'area is locked');
        if (area.start < start || area.last > last) fail('ENOENT', 'area only partly inside the range');
        if (area.start !== start) tries = 0;
        if (area.numAccesses) {
          start = area.start;
          area.preventAccess = true;
          this.notifyUnmap(area.start, area.length);
          if (++tries > 100) fail('EDEADLK', 'an access does not release its pins');
          continue;
        }
        const pages = area.pages;
        area.pages = null;
        this.unfillDomains(area, pages);
        this.areas.remove(area);
        pages.put();
        unmapped += area.length;
        if (area.last >= last) break;
        start = area.last + 1n;
      }
    } catch (err) {
      if (err instanceof IommufdError) (err as IommufdError & { unmapped?: bigint }).unmapped = unmapped;
      throw err;
    }
    return unmapped;
  }

  /** iopt_unmap_iova() */
  unmapIova(iova: bigint, length: bigint): bigint {
    if (length === 0n) fail('EINVAL', 'length 0');
    const last = lastOfBig(iova, length);
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    return this.unmapRange(iova, last);
  }

  /** iopt_unmap_all(): empty is success. */
  unmapAll(): bigint {
    return this.unmapRange(0n, ULONG_MAX);
  }

  private notifyUnmap(iova: bigint, length: bigint): void {
    for (const a of [...this.accesses]) a.notifyUnmap(iova, length);
  }

  /* ---- contiguous area walks ---- */

  /**
   * iopt_for_each_contig_area(): the areas covering [iova, last] without a
   * gap, each with the IOVA the walk is at; `done` tells if it reached last.
   */
  contigAreas(iova: bigint, last: bigint): { areas: Array<{ area: IoptArea; cur: bigint }>; done: boolean } {
    const out: Array<{ area: IoptArea; cur: bigint }> = [];
    let cur = iova;
    let area = this.areas.first(iova, iova);
    while (area !== undefined && area.pages !== null && area.start <= cur) {
      out.push({ area, cur });
      if (last <= area.last) return { areas: out, done: true };
      cur = area.last + 1n;
      area = this.areas.first(cur, last);
      if (area !== undefined && area.start !== cur) break;
    }
    return { areas: out, done: false };
  }

  /** iopt_get_pages(): the slices under [iova, iova + length), each with a page reference. */
  getPages(iova: bigint, length: bigint): IoptPagesElm[] {
    if (length === 0n) fail('EINVAL', 'length 0');
    const last = lastOfBig(iova, length);
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    const { areas, done } = this.contigAreas(iova, last);
    if (!done) fail('ENOENT', 'range not fully mapped');
    return areas.map(({ area, cur }) => {
      area.pages!.refs++;
      return { pages: area.pages!, startByte: area.startByte(cur), length: Number(minBig(last, area.last) - cur + 1n) };
    });
  }

  /* ---- reserved and allowed ranges ---- */

  /** iopt_reserve_iova(): refused over an area or an allowed range. */
  reserveIova(start: bigint, last: bigint, owner: unknown): void {
    if (this.areas.first(start, last) || this.allowed.first(start, last)) fail('EADDRINUSE', 'range in use');
    this.reserved.insert({ start, last, owner });
  }

  removeReservedIova(owner: unknown): void {
    for (const r of this.reserved.iter(0n, ULONG_MAX)) if (r.owner === owner) this.reserved.remove(r);
  }

  /** iopt_set_allow_iova(): replace the allowed ranges, unless one meets a reservation. */
  setAllowIova(ranges: IntervalNode[]): void {
    for (const r of ranges) if (this.reserved.first(r.start, r.last)) fail('EADDRINUSE', 'allowed range is reserved');
    this.allowed.clear();
    for (const r of ranges) this.allowed.insert({ start: r.start, last: r.last });
  }

  /* ---- alignment and large pages ---- */

  /** iopt_check_iova_alignment(): every area must already honour a larger alignment. */
  private checkIovaAlignment(align: bigint): void {
    const mask = align - 1n;
    for (const a of this.areas.all()) {
      if (a.start & mask || a.length & mask || BigInt(a.pageOffset) & mask) fail('EADDRINUSE', 'an area is not aligned');
    }
  }

  /** iopt_calculate_iova_alignment() */
  private calculateIovaAlignment(): void {
    let align = this.disableLargePages ? PAGE : 1n;
    for (const d of this.domains) align = maxBig(align, d.minPageSize);
    for (const a of this.accesses) align = maxBig(align, a.iovaAlignment);
    if (align > this.iovaAlignment) this.checkIovaAlignment(align);
    this.iovaAlignment = align;
  }

  /** iopt_disable_large_pages(): not once a domain holds mappings. */
  disableLarge(): void {
    if (this.disableLargePages) return;
    if (this.domains.length !== 0 && this.areas.size !== 0) fail('EINVAL', 'domains already hold mappings');
    this.disableLargePages = true;
    try {
      this.calculateIovaAlignment();
    } catch (e) {
      this.disableLargePages = false;
      throw e;
    }
  }

  /** iopt_enable_large_pages() */
  enableLarge(): void {
    this.disableLargePages = false;
    this.calculateIovaAlignment();
  }

  /* ---- domains ---- */

  /**
   * iopt_table_add_domain(): the domain's smallest page raises the IOAS
   * alignment (never past PAGE_SIZE), its aperture becomes reserved, and it
   * is filled with every area. On failure nothing changes.
   */
  addDomain(domain: MockDomain): void {
    if (this.domains.includes(domain)) fail('EEXIST', 'domain already in the IOAS');
    const align = maxBig(domain.minPageSize, this.iovaAlignment);
    if (align > PAGE) fail('EINVAL', 'domain page size above PAGE_SIZE');
    if (align !== this.iovaAlignment) this.checkIovaAlignment(align);
    try {
      if (domain.apertureStart !== 0n) this.reserveIova(0n, domain.apertureStart - 1n, domain);
      if (domain.apertureEnd !== ULONG_MAX) this.reserveIova(domain.apertureEnd + 1n, ULONG_MAX, domain);
      this.fillDomain(domain);
    } catch (e) {
      this.removeReservedIova(domain);
      throw e;
    }
    this.iovaAlignment = align;
    this.domains.push(domain);
  }

  /** iopt_fill_domain(): map every area into a new domain. */
  private fillDomain(domain: MockDomain): void {
    const done: IoptArea[] = [];
    try {
      for (const area of this.areas.all()) {
        const pages = area.pages;
        if (pages === null) continue;
        // Areas already filled keep their pins; the pfns are read back.
        const pfns =
          area.storageDomain !== null && !pages.isDmabuf
            ? Array.from({ length: area.pagesLast - area.pagesStart + 1 }, (_, k) => pages.pinnedPfn(area.pagesStart + k)!)
            : pages.acquire(area.pagesStart, area.pagesLast);
        if (pages.isDmabuf) pages.tracker.push({ area, domain });
        try {
          if (!pages.dmabufRevoked) this.mapArea(area, pages, domain, pfns);
        } catch (e) {
          IoPagetable.untrack(pages, area, domain);
          if (area.storageDomain === null) pages.release(area.pagesStart, area.pagesLast);
          throw e;
        }
        if (area.storageDomain === null) area.storageDomain = domain;
        done.push(area);
      }
    } catch (e) {
      for (const area of done) {
        if (!area.pages!.dmabufRevoked) this.unmapDomainRange(domain, area.start, area.last);
        IoPagetable.untrack(area.pages!, area, domain);
        if (area.storageDomain === domain) {
          area.storageDomain = null;
          area.pages!.release(area.pagesStart, area.pagesLast);
        }
      }
      throw e;
    }
  }

  /**
   * iopt_table_remove_domain(): unmap every area from it; when it was the
   * last domain the areas drop their pins too.
   */
  removeDomain(domain: MockDomain): void {
    const index = this.domains.indexOf(domain);
    if (index < 0) throw new Error('domain not in the IOAS');
    // Keep the array dense: the tail entry moves into the hole.
    const tail = this.domains.pop()!;
    if (tail !== domain) this.domains[index] = tail;
    const storage = this.domains[0] ?? null;
    for (const area of this.areas.all()) {
      const pages = area.pages;
      if (pages === null) continue;
      if (!pages.dmabufRevoked) this.unmapDomainRange(domain, area.start, area.last);
      IoPagetable.untrack(pages, area, domain);
      if (storage === null) {
        pages.release(area.pagesStart, area.pagesLast);
        area.storageDomain = null;
      } else if (area.storageDomain === domain) {
        area.storageDomain = storage;
      }
    }
    this.removeReservedIova(domain);
    this.calculateIovaAlignment();
  }

  /* ---- accesses ---- */

  /** iopt_add_access() */
  addAccess(access: IoptAccessUser): void {
    this.accesses.add(access);
    try {
      this.calculateIovaAlignment();
    } catch (e) {
      this.accesses.delete(access);
      throw e;
    }
  }

  /** iopt_remove_access() */
  removeAccess(access: IoptAccessUser): void {
    this.accesses.delete(access);
    this.calculateIovaAlignment();
  }

  /* ---- VFIO type1: cutting areas ---- */

  /**
   * iopt_area_split(): make iova the last byte of one area and iova + 1 the
   * first of another, both on the same pages. Refused if the area may have
   * been mapped with large pages, or has accesses.
   */
  private splitArea(area: IoptArea, iova: bigint): void {
    if (iova === area.start || iova === area.last) return;
    if (area.pages === null || area.preventAccess) fail('EBUSY', 'area busy');
    // Keeping the dma-buf tracker right across a split is not supported.
    if (area.pages.isDmabuf) fail('EOPNOTSUPP', 'cannot split a dma-buf area');
    const newStart = iova + 1n;
    const align = this.iovaAlignment - 1n;
    if (newStart & align || BigInt(area.startByte(newStart)) & align) fail('EINVAL', 'split point not aligned');
    if (area.numAccesses) fail('EINVAL', 'area has accesses');
    if (area.storageDomain !== null && !this.disableLargePages) fail('EINVAL', 'area may hold large pages');
    const pages = area.pages;
    const lhsLen = Number(newStart - area.start);
    const lhs = new IoptArea(area.start, iova, area.startByte(area.start), lhsLen, area.iommuProt);
    const rhs = new IoptArea(newStart, area.last, area.startByte(newStart), Number(area.last - newStart + 1n), area.iommuProt);
    this.areas.remove(area);
    for (const half of [lhs, rhs]) {
      half.pages = pages;
      half.storageDomain = area.storageDomain;
      this.areas.insert(half);
    }
    pages.refs++;
    if (area.storageDomain !== null) {
      // Each half holds its own page range; a page both halves touch stays pinned once.
      pages.acquire(lhs.pagesStart, lhs.pagesLast);
      pages.acquire(rhs.pagesStart, rhs.pagesLast);
      pages.release(area.pagesStart, area.pagesLast);
    }
  }

  /** iopt_cut_iova() */
  cutIova(iovas: readonly bigint[]): void {
    for (const iova of iovas) {
      const area = this.areas.first(iova, iova);
      if (area !== undefined) this.splitArea(area, iova);
    }
  }

  /** Pins every area holds for its domains (used by leak checks). */
  get filledAreas(): number {
    return this.areas.all().filter((a) => a.storageDomain !== null).length;
  }
}
