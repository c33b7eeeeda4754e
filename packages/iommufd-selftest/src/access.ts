/**
 * In-kernel access to an IOAS without DMA (struct iommufd_access, as mdev
 * drivers use it) and the selftest's driver on top of it (struct
 * selftest_access): pin the pages under an IOVA range and keep them until
 * told to unpin, or copy to/from IOVA. An unmap of pinned IOVA first asks the
 * access to let go.
 */
import { fail } from './errors.js';
import type { IommufdIoas } from './ioas.js';
import type { IoptAccessUser } from './iopt.js';
import type { Mm } from './mm.js';
import { IommufdObject, type ObjectTable } from './objects.js';
import { IOMMU_READ, IOMMU_WRITE, lastOfBig, minBig, ULONG_MAX } from '@genpt/pt-core';
import { IOMMUFD_ACCESS_RW_WRITE, PAGE_SIZE, __IOMMUFD_ACCESS_RW_SLOW_PATH } from './uapi.js';

/** The driver side of an access (struct iommufd_access_ops). */
export interface IommufdAccessOps {
  readonly needsPinPages: boolean;
  unmap(iova: bigint, length: bigint): void;
}

export class IommufdAccess extends IommufdObject implements IoptAccessUser {
  readonly type = 'access' as const;
  readonly ops: IommufdAccessOps;
  readonly iovaAlignment: bigint;
  ioas: IommufdIoas | null = null;

  constructor(ops: IommufdAccessOps) {
    super();
    this.ops = ops;
    this.iovaAlignment = ops.needsPinPages ? BigInt(PAGE_SIZE) : 1n;
    // The creating driver holds it until iommufd_access_destroy().
    this.users++;
  }

  notifyUnmap(iova: bigint, length: bigint): void {
    this.ops.unmap(iova, length);
  }

  /** iommufd_access_change_ioas(): join the new IOAS, release everything in the old one. */
  changeIoas(next: IommufdIoas | null): void {
    const cur = this.ioas;
    if (cur === next) return;
    if (next !== null) {
      next.iopt.addAccess(this);
      next.users++;
    }
    if (cur !== null) {
      this.ops.unmap(0n, ULONG_MAX);
      cur.iopt.removeAccess(this);
      cur.users--;
    }
    this.ioas = next;
  }

  destroy(): void {
    this.changeIoas(null);
  }

  private static checkProt(areaProt: number, write: boolean): boolean {
    return (areaProt & (write ? IOMMU_WRITE : IOMMU_READ)) !== 0;
  }

  /**
   * iommufd_access_pin_pages(): pin every CPU page under [iova, iova + length)
   * and return their pfns. The range must be page aligned in the pages and
   * fully mapped (ENOENT).
   */
  pinPages(iova: bigint, length: bigint, write: boolean): number[] {
    if (this.iovaAlignment !== BigInt(PAGE_SIZE)) fail('EINVAL', 'access cannot pin pages');
    if (length === 0n) fail('EINVAL', 'length 0');
    const last = lastOfBig(iova, length);
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    if (this.ioas === null) fail('ENOENT', 'access not attached');
    const { areas, done } = this.ioas.iopt.contigAreas(iova, last);
    const held: Array<{ start: number; last: number; area: (typeof areas)[number]['area'] }> = [];
    const out: number[] = [];
    try {
      for (let i = 0; i < areas.length; i++) {
        const { area, cur } = areas[i]!;
        const end = minBig(last, area.last);
        const isLast = i === areas.length - 1 && done;
        // iopt_area_contig_is_aligned()
        const aligned = area.startByte(cur) % PAGE_SIZE === 0 && (isLast || area.startByte(area.last) % PAGE_SIZE === PAGE_SIZE - 1);
        if (area.preventAccess || !aligned) fail('EINVAL', 'range not page aligned');
        if (!IommufdAccess.checkProt(area.iommuProt, write)) fail('EPERM', 'area protection');
        if (write && !area.pages!.writable) fail('EPERM', 'pages are not writable');
        const s = area.indexOf(cur);
        const l = area.indexOf(end);
        out.push(...area.pages!.acquire(s, l));
        // Only internal accesses lock areas; this one is asked to unpin on unmap.
        area.numAccesses++;
        held.push({ start: s, last: l, area });
      }
      if (!done) fail('ENOENT', 'range not fully mapped');
    } catch (e) {
      for (const h of held) {
        h.area.pages!.release(h.start, h.last);
        h.area.numAccesses--;
      }
      throw e;
    }
    return out;
  }

  /** iommufd_access_unpin_pages(): must match a pinPages() exactly. */
  unpinPages(iova: bigint, length: bigint): void {
    const last = lastOfBig(iova, length);
    if (length === 0n || last === undefined || this.ioas === null) throw new Error('bad unpin');
    const { areas, done } = this.ioas.iopt.contigAreas(iova, last);
    for (const { area, cur } of areas) {
      const end = minBig(last, area.last);
      area.pages!.release(area.indexOf(cur), area.indexOf(end));
      area.numAccesses--;
    }
    if (!done) throw new Error('unpin of a range that is not mapped');
  }

  /** iommufd_access_rw(): copy between data and the memory under [iova, iova + data.length). */
  rw(current: Mm, iova: bigint, data: Uint8Array, flags: number): void {
    const length = BigInt(data.length);
    if (length === 0n) fail('EINVAL', 'length 0');
    const last = lastOfBig(iova, length);
    if (last === undefined) fail('EOVERFLOW', 'IOVA + length');
    if (this.ioas === null) fail('ENOENT', 'access not attached');
    const write = (flags & IOMMUFD_ACCESS_RW_WRITE) !== 0;
    const { areas, done } = this.ioas.iopt.contigAreas(iova, last);
    let off = 0;
    for (const { area, cur } of areas) {
      const end = minBig(last, area.last);
      const bytes = Number(end - cur + 1n);
      if (area.preventAccess) fail('EINVAL', 'area is being unmapped');
      if (!IommufdAccess.checkProt(area.iommuProt, write)) fail('EPERM', 'area protection');
      area.pages!.rw(current, area.startByte(cur), data, off, bytes, write, (flags & __IOMMUFD_ACCESS_RW_SLOW_PATH) !== 0);
      off += bytes;
    }
    if (!done) fail('ENOENT', 'range not fully mapped');
  }
}

/** One ACCESS_PAGES call the selftest driver keeps pinned (struct selftest_access_item). */
interface AccessItem {
  id: number;
  iova: bigint;
  length: bigint;
}

/**
 * struct selftest_access: the test driver owning an access, reached from
 * user space by a file descriptor. Its unmap callback unpins every item the
 * unmapped range touches.
 */
export class SelftestAccess implements IommufdAccessOps {
  readonly needsPinPages: boolean;
  readonly fd: number;
  access!: IommufdAccess;
  private readonly items: AccessItem[] = [];
  private nextId = 0;

  constructor(fd: number, needsPinPages: boolean) {
    this.fd = fd;
    this.needsPinPages = needsPinPages;
  }

  /** iommufd_test_access_unmap() */
  unmap(iova: bigint, length: bigint): void {
    const last = iova + length - 1n;
    for (const item of [...this.items]) {
      if (iova > item.iova + item.length - 1n || last < item.iova) continue;
      this.items.splice(this.items.indexOf(item), 1);
      this.access.unpinPages(item.iova, item.length);
    }
  }

  /** ACCESS_PAGES: pin and remember; returns the item id. */
  pin(iova: bigint, length: bigint, write: boolean): { id: number; pfns: number[] } {
    if (!this.needsPinPages) fail('EOPNOTSUPP', 'access was created without NEEDS_PIN_PAGES');
    const pfns = this.access.pinPages(iova, length, write);
    const id = this.nextId++;
    this.items.push({ id, iova, length });
    return { id, pfns };
  }

  /** DESTROY_ACCESS_PAGES: ENOENT once unmap already took the item. */
  destroyItem(id: number): void {
    const item = this.items.find((i) => i.id === id);
    if (item === undefined) fail('ENOENT', `access pages ${id}`);
    this.items.splice(this.items.indexOf(item), 1);
    this.access.unpinPages(item.iova, item.length);
  }

  /** Closing the fd: unpin everything, then destroy the access. */
  release(objects: ObjectTable): void {
    this.unmap(0n, ULONG_MAX);
    this.access.users--;
    objects.remove(this.access.id);
  }

  get itemCount(): number {
    return this.items.length;
  }
}

/** Pages a pinned range covers, for checking what an access returned. */
export function accessPageCount(iova: bigint, length: bigint): number {
  const page = BigInt(PAGE_SIZE);
  const first = iova - (iova % page);
  const end = iova + length;
  return Number((end + page - 1n) / page - first / page);
}
