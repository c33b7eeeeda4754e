/**
 * The IOAS object and its ioctls (drivers/iommu/iommufd/ioas.c): map user
 * memory or a memfd, unmap, copy between IOASes, read the usable IOVA ranges,
 * restrict allocation to allowed ranges, and the huge pages option.
 */
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, lastOfBig, U64_MAX, ULONG_MAX } from '@genpt/pt-core';
import { DmaBuf } from './dmabuf.js';
import { fail } from './errors.js';
import type { HwptPaging } from './hwpt.js';
import { spans, type IntervalNode } from './interval.js';
import { IoPagetable, type IoptPagesElm } from './iopt.js';
import type { MemFile, Mm } from './mm.js';
import { IommufdObject } from './objects.js';
import { IoptPages } from './pages.js';
import {
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  IOMMU_OPTION_OP_GET,
  IOMMU_OPTION_OP_SET,
} from './uapi.js';
import { getUser, putUser } from './uapi-check.js';

const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

export class IommufdIoas extends IommufdObject {
  readonly type = 'ioas' as const;
  readonly iopt = new IoPagetable();
  /** HWPTs whose domains map this IOAS (ioas->hwpt_list), in creation order. */
  readonly hwptList: HwptPaging[] = [];

  destroy(): void {
    this.iopt.unmapAll();
  }
}

/** conv_iommu_prot(): iommufd requires coherent DMA, so IOMMU_CACHE is always set. */
export function convIommuProt(flags: number): number {
  let prot = IOMMU_CACHE;
  if (flags & IOMMU_IOAS_MAP_WRITEABLE) prot |= IOMMU_WRITE;
  if (flags & IOMMU_IOAS_MAP_READABLE) prot |= IOMMU_READ;
  return prot;
}

/** Flag and range checks every map-like ioctl makes before looking up the IOAS. */
export function checkMapArgs(flags: number, iova: bigint, length: bigint): void {
  if (flags & ~MAP_FLAGS) fail('EOPNOTSUPP', 'unknown map flags');
  if (iova >= ULONG_MAX || length >= ULONG_MAX) fail('EOVERFLOW', 'IOVA or length');
  if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) fail('EINVAL', 'neither readable nor writeable');
}

/** Map one iopt_pages; on failure the pages reference is dropped. */
function mapCommon(ioas: IommufdIoas, elm: IoptPagesElm, length: bigint, flags: number, iova: bigint): bigint {
  try {
    return ioas.iopt.mapPages([elm], length, flags & IOMMU_IOAS_MAP_FIXED_IOVA ? iova : undefined, convIommuProt(flags));
  } catch (e) {
    elm.pages.put();
    throw e;
  }
}

/*
 * The ioctls below take their arguments as the kernel holds them, already
 * read from the uAPI structs by IommufdCtx (uapi-check.ts): u64 fields as
 * bigints, u32 flags as numbers.
 */

/** IOMMU_IOAS_MAP: map user memory of `mm` at a fixed or allocated IOVA. */
export function ioasMap(getIoas: () => IommufdIoas, mm: Mm, flags: number, userVa: bigint, length: bigint, iova: bigint): bigint {
  checkMapArgs(flags, iova, length);
  const ioas = getIoas();
  // iopt_alloc_user_pages(): EINVAL for the length, EOVERFLOW when user_va + length wraps.
  const { pages, startByte } = IoptPages.user(mm, userVa, length, (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0);
  return mapCommon(ioas, { pages, startByte, length: Number(length) }, length, flags, iova);
}

/** IOMMU_IOAS_MAP_FILE: map a memfd range, or import a dma-buf. The file is looked up after the IOAS. */
export function ioasMapFile(
  getIoas: () => IommufdIoas,
  getFile: () => MemFile | DmaBuf,
  flags: number,
  start: bigint,
  length: bigint,
  iova: bigint,
): bigint {
  checkMapArgs(flags, iova, length);
  const ioas = getIoas();
  const file = getFile();
  if (length === 0n) fail('EINVAL', 'length 0');
  if (lastOfBig(start, length) === undefined) fail('EOVERFLOW', 'start + length');
  const writable = (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0;
  const { pages, startByte } =
    file instanceof DmaBuf ? IoptPages.dmabuf(file, start, length, writable) : IoptPages.file(file, start, length, writable);
  return mapCommon(ioas, { pages, startByte, length: Number(length) }, length, flags, iova);
}

/**
 * IOMMU_IOAS_UNMAP: iova 0 with length U64_MAX unmaps everything (success
 * when empty); otherwise the range must cover whole areas and hit at least
 * one (ENOENT).
 */
export function ioasUnmap(ioas: IommufdIoas, iova: bigint, length: bigint): bigint {
  if (iova === 0n && length === U64_MAX) return ioas.iopt.unmapAll();
  if (iova >= ULONG_MAX || length >= ULONG_MAX) fail('EOVERFLOW', 'IOVA or length');
  const unmapped = ioas.iopt.unmapIova(iova, length);
  if (unmapped === 0n) fail('ENOENT', 'nothing mapped there');
  return unmapped;
}

/** IOMMU_IOAS_COPY: map the pages under [srcIova, + length) of src into dst (the same pages, no new pins). */
export function ioasCopy(
  getSrc: () => IommufdIoas,
  getDst: () => IommufdIoas,
  flags: number,
  srcIova: bigint,
  length: bigint,
  dstIova: bigint,
): bigint {
  if (flags & ~MAP_FLAGS) fail('EOPNOTSUPP', 'unknown map flags');
  if (length >= ULONG_MAX || srcIova >= ULONG_MAX || dstIova >= ULONG_MAX) fail('EOVERFLOW', 'IOVA or length');
  if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) fail('EINVAL', 'neither readable nor writeable');
  const list = getSrc().iopt.getPages(srcIova, length);
  try {
    const dst = getDst();
    const iova = dst.iopt.mapPages(list, length, flags & IOMMU_IOAS_MAP_FIXED_IOVA ? dstIova : undefined, convIommuProt(flags));
    return iova;
  } catch (e) {
    for (const elm of list) elm.pages.put();
    throw e;
  }
}

/** struct iommu_iova_range */
export interface IommuIovaRange {
  start: bigint;
  last: bigint;
}

/** IOMMU_IOAS_IOVA_RANGES: in/out like the ioctl's struct. */
export interface IoasIovaRangesCmd {
  /** In: room in `ranges`; out: how many ranges there are. */
  numIovas: number;
  /** The user array the kernel fills (only the first numIovas entries). */
  ranges: IommuIovaRange[];
  outIovaAlignment?: bigint;
}

/**
 * The usable IOVA (the holes between reserved ranges) and the IOAS
 * alignment. EMSGSIZE, with numIovas and the ranges that fit written, when
 * the array is too small. `max` is the numIovas read in; `cmd` is the
 * caller's struct the results are copied out to (EFAULT if `ranges` cannot
 * be written when a range is due).
 */
export function ioasIovaRanges(ioas: IommufdIoas, max: number, cmd: IoasIovaRangesCmd): void {
  const where = 'ioasIovaRanges';
  let n = 0;
  for (const s of spans([ioas.iopt.reserved], 0n, ULONG_MAX)) {
    if (!s.isHole) continue;
    if (n < max) {
      const ranges = getUser(cmd, 'ranges', where);
      if (!Array.isArray(ranges)) fail('EFAULT', `${where}: ranges is not a user array`);
      putUser(ranges, String(n), { start: s.start, last: s.last }, where);
    }
    n++;
  }
  putUser(cmd, 'numIovas', n, where);
  putUser(cmd, 'outIovaAlignment', ioas.iopt.iovaAlignment, where);
  if (n > max) fail('EMSGSIZE', 'range array too small');
}

/** IOMMU_IOAS_ALLOW_IOVAS: each range must be start < last and not overlap another. */
export function ioasAllowIovas(ioas: IommufdIoas, ranges: ReadonlyArray<{ start: bigint; last: bigint }>): void {
  const loaded: IntervalNode[] = [];
  for (const { start, last } of ranges) {
    if (start >= last) fail('EINVAL', 'empty range');
    if (loaded.some((o) => o.start <= last && o.last >= start)) fail('EINVAL', 'overlapping ranges');
    loaded.push({ start, last });
  }
  ioas.iopt.setAllowIova(loaded);
}

/** IOMMU_OPTION(IOMMU_OPTION_HUGE_PAGES) on an IOAS: get, or set 0 / 1. */
export function ioasOptionHugePages(ioas: IommufdIoas, op: number, val64: bigint): bigint {
  if (op === IOMMU_OPTION_OP_GET) return ioas.iopt.disableLargePages ? 0n : 1n;
  if (op === IOMMU_OPTION_OP_SET) {
    if (val64 === 0n) ioas.iopt.disableLarge();
    else if (val64 === 1n) ioas.iopt.enableLarge();
    else fail('EINVAL', 'huge pages option is 0 or 1');
    return val64;
  }
  fail('EOPNOTSUPP', 'unknown option op');
}
