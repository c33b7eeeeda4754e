/**
 * The VFIO type1 container ioctls iommufd emulates on its compat IOAS
 * (drivers/iommu/iommufd/vfio_compat.c). Type1 (v1) may unmap the middle of
 * a mapping, which iommufd allows by mapping everything in CPU pages and
 * cutting areas; type1v2 refuses with ENOENT.
 */
import { IOMMU_CACHE, IOMMU_READ, IOMMU_WRITE, ULONG_MAX } from '@genpt/pt-core';
import { fail } from './errors.js';
import type { IommufdIoas } from './ioas.js';
import { spans } from './interval.js';
import type { Mm } from './mm.js';
import { IoptPages } from './pages.js';
import {
  PAGE_SIZE,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_DMA_UNMAP_FLAG_ALL,
  VFIO_IOMMU_INFO_CAPS,
  VFIO_IOMMU_INFO_PGSIZES,
  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
  VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL,
  VFIO_TYPE1_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from './uapi.js';
import { userBytes } from './uapi-check.js';

/** VFIO_SET_IOMMU (an unsigned long argument): type1 turns large pages off so any range can be unmapped later. */
export function vfioSetIommu(ioas: IommufdIoas | null, type: bigint): void {
  if (type !== BigInt(VFIO_TYPE1_IOMMU) && type !== BigInt(VFIO_TYPE1v2_IOMMU)) fail('EINVAL', 'IOMMU type');
  if (ioas === null) fail('ENODEV', 'no compat IOAS');
  if (type === BigInt(VFIO_TYPE1_IOMMU)) ioas.iopt.disableLarge();
}

/** struct vfio_iommu_type1_dma_map */
export interface VfioDmaMap {
  argsz?: number;
  flags: number;
  vaddr: number | bigint;
  iova: number | bigint;
  size: number | bigint;
}

/** struct vfio_iommu_type1_dma_unmap; size is written back with the bytes unmapped. */
export interface VfioDmaUnmap {
  argsz?: number;
  flags: number;
  iova: number | bigint;
  size: number | bigint;
}

/** The map and unmap structs as the kernel reads them (u64 fields as bigints). */
export interface VfioDmaMapArgs {
  argsz: number;
  flags: number;
  vaddr: bigint;
  iova: bigint;
  size: bigint;
}

export interface VfioDmaUnmapArgs {
  argsz: number;
  flags: number;
  iova: bigint;
  size: bigint;
}

const DMA_MAP_MINSZ = 32;
const DMA_UNMAP_MINSZ = 24;

/** VFIO_IOMMU_MAP_DMA: a fixed-IOVA map of user memory. */
export function vfioMapDma(ioas: IommufdIoas | null, mm: Mm, map: VfioDmaMapArgs): void {
  if (map.argsz < DMA_MAP_MINSZ || map.flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) fail('EINVAL', 'map flags');
  let prot = IOMMU_CACHE;
  if (map.flags & VFIO_DMA_MAP_FLAG_READ) prot |= IOMMU_READ;
  if (map.flags & VFIO_DMA_MAP_FLAG_WRITE) prot |= IOMMU_WRITE;
  if (ioas === null) fail('ENODEV', 'no compat IOAS');
  const { pages, startByte } = IoptPages.user(mm, map.vaddr, map.size, (prot & IOMMU_WRITE) !== 0);
  try {
    ioas.iopt.mapPages([{ pages, startByte, length: Number(map.size) }], map.size, map.iova, prot);
  } catch (e) {
    pages.put();
    throw e;
  }
}

/**
 * VFIO_IOMMU_UNMAP_DMA: unmap all (iova and size must be 0), or a range
 * that (in type1 mode) is first cut out of the areas it crosses. Unmapping
 * nothing is success. Returns the bytes unmapped, which the caller writes
 * back to the struct's size.
 */
export function vfioUnmapDma(ioas: IommufdIoas | null, unmap: VfioDmaUnmapArgs): bigint {
  if (unmap.argsz < DMA_UNMAP_MINSZ || unmap.flags & ~VFIO_DMA_UNMAP_FLAG_ALL) fail('EINVAL', 'unmap flags');
  if (ioas === null) fail('ENODEV', 'no compat IOAS');
  const { iova, size } = unmap;
  if (unmap.flags & VFIO_DMA_UNMAP_FLAG_ALL) {
    if (iova !== 0n || size !== 0n) fail('EINVAL', 'unmap all takes iova 0 and size 0');
    return ioas.iopt.unmapAll();
  }
  if (ioas.iopt.disableLargePages) {
    // unsigned long arithmetic: iova + size - 1 and iova - 1 wrap.
    const cuts = [(iova + size - 1n) & ULONG_MAX];
    if (iova) cuts.push(iova - 1n);
    ioas.iopt.cutIova(cuts);
  }
  return ioas.iopt.unmapIova(iova, size);
}

/** iommufd_get_pagesizes(): what every domain can map, never below PAGE_SIZE or the IOAS alignment. */
function pageSizes(ioas: IommufdIoas): bigint {
  let bitmap = ULONG_MAX;
  for (const d of ioas.iopt.domains) bitmap &= d.pgsizeBitmap;
  const page = BigInt(PAGE_SIZE);
  if (bitmap & (page - 1n)) bitmap = (bitmap & ~(page - 1n)) | page;
  // biome-ignore lint/complexity/useMathMinMax: bigints
  return bitmap > ioas.iopt.iovaAlignment ? bitmap : ioas.iopt.iovaAlignment;
}

/** sizeof(struct vfio_iommu_type1_info) */
const INFO_SIZE = 24;
/** offsetofend(struct vfio_iommu_type1_info, iova_pgsizes) */
const INFO_MINSZ = 16;

const align8 = (n: number) => (n + 7) & ~7;

/**
 * VFIO_IOMMU_GET_INFO on a user buffer laid out as struct
 * vfio_iommu_type1_info: argsz (in/out), flags, iova_pgsizes, cap_offset,
 * then the capability chain (DMA_AVAIL, IOVA_RANGE). Never writes past the
 * argsz the caller gave; reports the argsz needed for every capability.
 */
export function vfioGetInfo(ioas: IommufdIoas | null, user: unknown): void {
  // copy_from_user() of the fixed part (argsz, flags, iova_pgsizes).
  const buf = userBytes(user, INFO_MINSZ, 'vfioGetInfo', 'buf');
  const raw = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const argsz = raw.getUint32(0, true);
  if (argsz < INFO_MINSZ) fail('EINVAL', 'argsz');
  const minsz = Math.min(argsz, INFO_SIZE);
  if (ioas === null) fail('ENODEV', 'no compat IOAS');
  // Every write is bounded by the caller's argsz, like copy_to_user on a sized buffer; one past the buffer faults.
  const fits = (off: number, len: number) => off + len <= argsz;
  const reach = (off: number, len: number) => {
    if (off + len > buf.byteLength)
      fail('EFAULT', `vfioGetInfo: bytes ${off}..${off + len - 1} are past the ${buf.byteLength} byte buffer`);
    return off;
  };
  const view = {
    setUint16: (off: number, v: number) => raw.setUint16(reach(off, 2), v, true),
    setUint32: (off: number, v: number) => raw.setUint32(reach(off, 4), v, true),
    setBigUint64: (off: number, v: bigint) => raw.setBigUint64(reach(off, 8), v, true),
  };

  const holes = spans([ioas.iopt.reserved], 0n, ULONG_MAX).filter((s) => s.isHole);
  const fillDmaAvail = (at: number | null, avail: number): number => {
    if (at !== null && avail >= 12) {
      view.setUint16(at, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
      view.setUint16(at + 2, 1);
      view.setUint32(at + 4, 0);
      view.setUint32(at + 8, 0xffffffff);
    }
    return 12;
  };
  const fillIova = (at: number | null, avail: number): number => {
    const size = (n: number) => 16 + 16 * n;
    holes.forEach((h, n) => {
      if (at !== null && avail >= size(n + 1)) {
        view.setBigUint64(at + 16 + 16 * n, h.start);
        view.setBigUint64(at + 24 + 16 * n, h.last);
      }
    });
    if (at !== null && avail >= size(holes.length)) {
      view.setUint16(at, VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
      view.setUint16(at + 2, 1);
      view.setUint32(at + 4, 0);
      view.setUint32(at + 8, holes.length);
      view.setUint32(at + 12, 0);
    }
    return size(holes.length);
  };

  let total = INFO_SIZE;
  let lastCap: number | null = null;
  for (const fill of [fillDmaAvail, fillIova]) {
    const capSize = align8(argsz > total ? fill(total, argsz - total) : fill(null, 0));
    if (lastCap !== null && argsz >= total && fits(lastCap + 4, 4)) view.setUint32(lastCap + 4, total);
    lastCap = total;
    total += capSize;
  }

  const info = new DataView(new ArrayBuffer(INFO_SIZE));
  info.setUint32(0, total, true);
  info.setUint32(4, VFIO_IOMMU_INFO_PGSIZES | VFIO_IOMMU_INFO_CAPS, true);
  info.setBigUint64(8, pageSizes(ioas), true);
  info.setUint32(16, argsz >= total ? INFO_SIZE : 0, true);
  reach(0, minsz);
  buf.set(new Uint8Array(info.buffer, 0, minsz), 0);
}
