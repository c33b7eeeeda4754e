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
import { u64 } from './u64.js';

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

/** IOMMU_IOAS_MAP: map user memory of `mm` at a fixed or allocated IOVA. */
export function ioasMap(
  getIoas: () => IommufdIoas,
  mm: Mm,
  flags: number,
  userVa: number,
  length: number | bigint,
  iova: number | bigint = 0,
): bigint {
  const len = u64(length, 'length');
  const at = u64(iova, 'iova');
  checkMapArgs(flags, at, len);
  const ioas = getIoas();
  if (!Number.isSafeInteger(userVa) || userVa < 0) fail('EFAULT', 'user VA');
  if (userVa + Number(len) > 2 ** 64) fail('EOVERFLOW', 'user VA + length');
  const { pages, startByte } = IoptPages.user(mm, userVa, len, (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0);
  return mapCommon(ioas, { pages, startByte, length: Number(len) }, len, flags, at);
}

/** IOMMU_IOAS_MAP_FILE: map a memfd range, or import a dma-buf. */
export function ioasMapFile(
  getIoas: () => IommufdIoas,
  file: MemFile | DmaBuf,
  flags: number,
  start: number,
  length: number | bigint,
  iova: number | bigint = 0,
): bigint {
  const len = u64(length, 'length');
  const at = u64(iova, 'iova');
  checkMapArgs(flags, at, len);
  const ioas = getIoas();
  if (len === 0n) fail('EINVAL', 'length 0');
  if (lastOfBig(BigInt(start), len) === undefined) fail('EOVERFLOW', 'start + length');
  const writable = (flags & IOMMU_IOAS_MAP_WRITEABLE) !== 0;
  const { pages, startByte } =
    file instanceof DmaBuf ? IoptPages.dmabuf(file, start, len, writable) : IoptPages.file(file, start, len, writable);
  return mapCommon(ioas, { pages, startByte, length: Number(len) }, len, flags, at);
}

/**
 * IOMMU_IOAS_UNMAP: iova 0 with length U64_MAX unmaps everything (success
 * when empty); otherwise the range must cover whole areas and hit at least
 * one (ENOENT).
 */
export function ioasUnmap(ioas: IommufdIoas, iova: number | bigint, length: number | bigint): bigint {
  const at = u64(iova, 'iova');
  const len = u64(length, 'length');
  if (at === 0n && len === U64_MAX) return ioas.iopt.unmapAll();
  if (at >= ULONG_MAX || len >= ULONG_MAX) fail('EOVERFLOW', 'IOVA or length');
  const unmapped = ioas.iopt.unmapIova(at, len);
  if (unmapped === 0n) fail('ENOENT', 'nothing mapped there');
  return unmapped;
}

/** IOMMU_IOAS_COPY: map the pages under [srcIova, + length) of src into dst (the same pages, no new pins). */
export function ioasCopy(
  getSrc: () => IommufdIoas,
  getDst: () => IommufdIoas,
  flags: number,
  srcIova: number | bigint,
  length: number | bigint,
  dstIova: number | bigint,
): bigint {
  const len = u64(length, 'length');
  const from = u64(srcIova, 'src_iova');
  const to = u64(dstIova, 'dst_iova');
  if (flags & ~MAP_FLAGS) fail('EOPNOTSUPP', 'unknown map flags');
  if (len >= ULONG_MAX || from >= ULONG_MAX || to >= ULONG_MAX) fail('EOVERFLOW', 'IOVA or length');
  if (!(flags & (IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE))) fail('EINVAL', 'neither readable nor writeable');
  const list = getSrc().iopt.getPages(from, len);
  try {
    const dst = getDst();
    const iova = dst.iopt.mapPages(list, len, flags & IOMMU_IOAS_MAP_FIXED_IOVA ? to : undefined, convIommuProt(flags));
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
 * the array is too small.
 */
export function ioasIovaRanges(ioas: IommufdIoas, cmd: IoasIovaRangesCmd): void {
  const max = cmd.numIovas;
  let n = 0;
  cmd.outIovaAlignment = ioas.iopt.iovaAlignment;
  for (const s of spans([ioas.iopt.reserved], 0n, ULONG_MAX)) {
    if (!s.isHole) continue;
    if (n < max) cmd.ranges[n] = { start: s.start, last: s.last };
    n++;
  }
  cmd.numIovas = n;
  if (n > max) fail('EMSGSIZE', 'range array too small');
}

/** IOMMU_IOAS_ALLOW_IOVAS: each range must be start < last and not overlap another. */
export function ioasAllowIovas(ioas: IommufdIoas, ranges: ReadonlyArray<{ start: number | bigint; last: number | bigint }>): void {
  const loaded: IntervalNode[] = [];
  for (const r of ranges) {
    const start = u64(r.start, 'start');
    const last = u64(r.last, 'last');
    if (start >= last) fail('EINVAL', 'empty range');
    if (loaded.some((o) => o.start <= last && o.last >= start)) fail('EINVAL', 'overlapping ranges');
    loaded.push({ start, last });
  }
  ioas.iopt.setAllowIova(loaded);
}

/** IOMMU_OPTION(IOMMU_OPTION_HUGE_PAGES) on an IOAS: get, or set 0 / 1. */
export function ioasOptionHugePages(ioas: IommufdIoas, op: number, val64: number | bigint): bigint {
  if (op === IOMMU_OPTION_OP_GET) return ioas.iopt.disableLargePages ? 0n : 1n;
  if (op === IOMMU_OPTION_OP_SET) {
    const v = BigInt(val64);
    if (v === 0n) ioas.iopt.disableLarge();
    else if (v === 1n) ioas.iopt.enableLarge();
    else fail('EINVAL', 'huge pages option is 0 or 1');
    return v;
  }
  fail('EOPNOTSUPP', 'unknown option op');
}
