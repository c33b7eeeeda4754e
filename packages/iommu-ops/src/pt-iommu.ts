/**
 * struct pt_iommu and its ops: a page table of one format driven by the
 * IOMMU algorithms, with the validation, errors and driver interplay of
 * Linux 7.0's iommu_pt.h. Addresses and lengths are {@link U64}s (safe
 * numbers or bigints); failures throw {@link PtError} with the kernel's errno.
 */
import {
  Errno,
  IOMMU_PROT_MASK,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtError,
  PtRange,
  PtState,
  TableMemory,
  U64Pair,
  bit,
  featureNames,
  ptAllRange,
  ptTopRange,
  ptTopRangeOf,
  ptWalkRange,
  u64ShlHi,
  u64ShlLo,
  u64ShrHi,
  u64ShrLo,
  u64Split,
  u64SubHi,
  u64SubLo,
  u64Value,
  maskHi,
  maskLo,
  type AnyPtFormat,
  type FormatCfg,
  type FormatHwInfo,
  type U64,
} from '@genpt/pt-core';
import { IommuDirtyBitmap } from './dirty.js';
import {
  IOMMU_DOMAIN_PAGING,
  IommuDomain,
  type IommuDevice,
  type IommuDomainOps,
  type PtIommuDriverOps,
} from './domain.js';
import { IommuIotlbGather } from './gather.js';
import { ALLOC_NORMAL, putPagesList, stopIncoherentList, tableAllocTop } from './helpers.js';
import { iommuPtImpl, type IommuPtImpl } from './impl.js';
import { WalkScratch } from './scratch.js';

export interface PtIommuOptions {
  /** Where tables are allocated (shared with hardware models). A new one by default. */
  mem?: TableMemory;
  /** Behave like a CONFIG_DEBUG_GENERIC_PT kernel (the kunit suites and golden traces). */
  debug?: boolean;
  /** change_top / get_top_lock, required with DYNAMIC_TOP. */
  driverOps?: PtIommuDriverOps;
  /** The driver's iotlb_sync. Default: free the gathered table pages (what the kunit fixture does). */
  domainOps?: IommuDomainOps;
  /** Cache maintenance for PT_FEAT_DMA_INCOHERENT. */
  iommuDevice?: IommuDevice;
  /**
   * Report a dirty contiguous entry's whole length from read_and_clear_dirty.
   * Off by default: Linux 7.0 reports it one item short (see README).
   */
  dirtyWholeContig?: boolean;
}

/** struct pt_iommu_info */
export interface PtIommuInfo {
  pgsizeBitmap: bigint;
}

/** The default iotlb_sync: nothing to invalidate, free the table pages. */
function defaultDomainOps(mem: TableMemory): IommuDomainOps {
  return {
    iotlbSync(_domain: IommuDomain, gather: IommuIotlbGather): void {
      putPagesList(mem, gather.freelist);
    },
  };
}

export class PtIommu<F extends AnyPtFormat = AnyPtFormat> {
  readonly fmt: F;
  readonly common: PtCommon;
  readonly domain: IommuDomain;
  readonly driverOps: PtIommuDriverOps;
  readonly iommuDevice: IommuDevice | undefined;
  readonly dirtyWholeContig: boolean;
  /** @internal walk state, reused by every operation */
  readonly scratch: WalkScratch;
  private readonly impl: IommuPtImpl;
  private live = false;
  private busy = false;
  private readonly a = new U64Pair();
  private readonly b = new U64Pair();
  private readonly c = new U64Pair();
  private readonly out = new U64Pair();

  private constructor(fmt: F, opts: PtIommuOptions) {
    this.fmt = fmt;
    this.impl = iommuPtImpl(fmt);
    const mem = opts.mem ?? new TableMemory();
    this.common = new PtCommon(fmt, mem, { debug: opts.debug ?? false });
    this.domain = new IommuDomain(opts.domainOps ?? defaultDomainOps(mem));
    this.domain.table = this as PtIommu;
    this.driverOps = opts.driverOps ?? {};
    this.iommuDevice = opts.iommuDevice;
    this.dirtyWholeContig = opts.dirtyWholeContig ?? false;
    this.scratch = new WalkScratch(this.common);
    this.scratch.setOwner(this as PtIommu);
  }

  /**
   * pt_iommu_<fmt>_init(): build a table from the format's config. Throws a
   * PtError with the kernel's errno when the config is refused.
   */
  static init<F extends AnyPtFormat>(fmt: F, cfg: FormatCfg<F>, opts: PtIommuOptions = {}): PtIommu<F> {
    const t = new PtIommu(fmt, opts);
    const ret = t.initTable(cfg);
    if (ret) throw PtError.fromErrno(ret, `${fmt.name} init`);
    return t;
  }

  private initTable(cfg: FormatCfg<F>): number {
    const fmt = this.fmt;
    const common = this.common;
    for (const k of ['features', 'hwMaxVaszLg2', 'hwMaxOaszLg2'] as const) {
      if (!Number.isInteger(cfg[k]) || cfg[k] < 0) return -Errno.EINVAL;
    }
    if (cfg.hwMaxVaszLg2 > fmt.maxVaAddressLg2 || !cfg.hwMaxVaszLg2 || !cfg.hwMaxOaszLg2) return -Errno.EINVAL;
    common.features = cfg.features >>> 0;
    common.maxVaszLg2 = cfg.hwMaxVaszLg2;
    common.maxOaszLg2 = cfg.hwMaxOaszLg2;
    let ret = fmt.iommuFmtInit(common, cfg);
    if (ret) return ret;
    if (cfg.hwMaxOaszLg2 > fmt.maxOaLg2(common)) return -Errno.EINVAL;
    ret = this.initCommon();
    if (ret) return ret;

    const d = this.driverOps;
    if (common.featDynamicTop && (d.changeTop === undefined || d.getTopLock === undefined)) {
      return -Errno.EINVAL;
    }
    if (
      common.feature(PT_FEAT_SIGN_EXTEND) &&
      (common.feature(PT_FEAT_FULL_VA) || common.featDynamicTop)
    ) {
      return -Errno.EINVAL;
    }
    if (common.featDmaIncoherent && this.iommuDevice === undefined) return -Errno.EINVAL;

    this.initDomain();

    const top = tableAllocTop(this as PtIommu, common.topLevel, ALLOC_NORMAL);
    if (top < 0) return top;
    common.topSet(top, common.topLevel);
    this.live = true;
    return 0;
  }

  /** pt_init_common() */
  private initCommon(): number {
    const common = this.common;
    const fmt = this.fmt;
    const top = ptTopRange(common);
    if (top.topLevel > fmt.maxTopLevel) return -Errno.EINVAL;
    if (top.topLevel === fmt.maxTopLevel || common.maxVaszLg2 === top.maxVaszLg2) {
      common.features &= ~bit(PT_FEAT_DYNAMIC_TOP);
    }
    if (top.maxVaszLg2 === 64) common.features |= bit(PT_FEAT_FULL_VA);
    common.features >>>= 0;
    // Requested features must be ones this build supports (and, outside
    // debug builds, include every force-enabled one).
    if (
      common.features & ~common.supportedFeatures ||
      (!common.debug && (common.features & common.forceEnabledFeatures) !== common.forceEnabledFeatures)
    ) {
      return -Errno.EOPNOTSUPP;
    }
    // A fixed top must be able to span the VA asked for.
    if (!common.featDynamicTop && top.topLevel !== fmt.maxTopLevel) {
      if (common.maxVaszLg2 > common.numItemsLg2[top.topLevel]! + common.itemLg2sz[top.topLevel]!) {
        return -Errno.EOPNOTSUPP;
      }
    }
    const fmtMax = fmt.maxOaLg2(common);
    common.maxOaszLg2 = common.maxOaszLg2 === 0 ? fmtMax : Math.min(common.maxOaszLg2, fmtMax);
    return 0;
  }

  /** pt_iommu_init_domain(): page sizes and the aperture the core sees. */
  private initDomain(): void {
    const common = this.common;
    const d = this.domain;
    const info = this.pgsizeBitmapOf();
    d.type = IOMMU_DOMAIN_PAGING;
    d.pgsizeBitmapHi = info.hi;
    d.pgsizeBitmapLo = info.lo;
    d.isIommupt = true;
    // With DYNAMIC_TOP the aperture is what the table can grow to.
    const range = common.featDynamicTop
      ? ptTopRangeOf(new PtRange(common), 0, this.fmt.maxTopLevel)
      : ptTopRange(common);
    d.geometry = {
      apertureStart: u64Value(range.vaHi, range.vaLo),
      apertureEnd: u64Value(range.lastHi, range.lastLo),
      forceAperture: true,
    };
  }

  /** get_info()'s bitmap: every leaf size any level the table has (or can grow to) holds. */
  private pgsizeBitmapOf(): U64Pair {
    const common = this.common;
    const fmt = this.fmt;
    const pts = new PtState(ptTopRange(common));
    const acc = new U64Pair();
    const sizes = new U64Pair();
    const last = common.featDynamicTop ? fmt.maxTopLevel : common.topLevel;
    for (let level = 0; level <= last; level++) {
      if (common.featDynamicTop && common.itemLg2sz[level]! >= common.maxVaszLg2) break;
      pts.level = level;
      fmt.possibleSizes(pts, sizes);
      acc.set(acc.hi | sizes.hi, acc.lo | sizes.lo);
    }
    // Hide page sizes larger than the maximum OA
    return acc.set(acc.hi & maskHi(common.maxOaszLg2), acc.lo & maskLo(common.maxOaszLg2));
  }

  /** get_info() */
  getInfo(): PtIommuInfo {
    this.checkLive();
    return { pgsizeBitmap: this.pgsizeBitmapOf().bigint() };
  }

  /** The format's hw_info (root pointer and levels for the driver to program). */
  hwInfo(): FormatHwInfo<F> {
    this.checkLive();
    const fn = this.fmt.iommuFmtHwInfo;
    if (fn === undefined) throw new PtError('EOPNOTSUPP', `${this.fmt.name} has no hw_info`);
    return fn.call(this.fmt, this.common, ptTopRange(this.common)) as FormatHwInfo<F>;
  }

  /** Features after init (init drops DYNAMIC_TOP when it cannot grow and adds FULL_VA), by name. */
  featureNames(): string[] {
    return featureNames(this.common.features, this.fmt.featureNames);
  }

  /* ---- ops ---- */

  /**
   * map_range(): map [iova, iova + len) to [paddr, paddr + len) with the
   * largest page sizes the alignment allows. Returns the bytes mapped (len).
   * On failure throws a PtError whose `mapped` is what was mapped before it
   * (that part stays mapped, as in the kernel).
   */
  mapRange(iova: U64, paddr: U64, len: U64, prot: number, gfp = 0): U64 {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    u64Split(iova, a, 'iova');
    u64Split(paddr, b, 'paddr');
    u64Split(len, c, 'len');
    checkProt(prot);
    return this.doMap(a.hi, a.lo, b.hi, b.lo, c.hi, c.lo, prot, gfp);
  }

  /**
   * The seed's map_pages(): pgcount pages of pgsize (a power of two), i.e.
   * mapRange with len = pgsize * pgcount.
   */
  mapPages(iova: U64, paddr: U64, pgsize: U64, pgcount: U64, prot: number, gfp = 0): U64 {
    const a = this.a;
    const b = this.b;
    u64Split(iova, a, 'iova');
    u64Split(paddr, b, 'paddr');
    const len = this.pagesLen(pgsize, pgcount);
    checkProt(prot);
    return this.doMap(a.hi, a.lo, b.hi, b.lo, len.hi, len.lo, prot, gfp);
  }

  private doMap(ih: number, il: number, ph: number, pl: number, lh: number, ll: number, prot: number, gfp: number): U64 {
    this.enter();
    let ret: number;
    try {
      ret = this.impl.map.map(this as PtIommu, ih, il, ph, pl, lh, ll, prot, gfp);
    } finally {
      this.busy = false;
    }
    const m = this.scratch.map;
    const mapped = u64Value(u64SubHi(m.oaHi, m.oaLo, ph, pl), u64SubLo(m.oaHi, m.oaLo, ph, pl));
    if (ret) throw PtError.fromErrno(ret, 'map', mapped);
    return mapped;
  }

  /**
   * unmap_range(): unmap [iova, iova + len), stopping at the first hole.
   * Returns the bytes unmapped, which can exceed len when the range ends
   * inside a large leaf and is 0 when it starts inside one. The changed range
   * and the freed tables go into `gather`; the caller must flush it (see
   * {@link iommuIotlbSync}) before the tables are reused.
   */
  unmapRange(iova: U64, len: U64, gather: IommuIotlbGather): U64 {
    const a = this.a;
    const c = this.c;
    u64Split(iova, a, 'iova');
    u64Split(len, c, 'len');
    return this.doUnmap(a.hi, a.lo, c.hi, c.lo, gather);
  }

  /** The seed's unmap_pages(): unmapRange with len = pgsize * pgcount. */
  unmapPages(iova: U64, pgsize: U64, pgcount: U64, gather: IommuIotlbGather): U64 {
    const a = this.a;
    u64Split(iova, a, 'iova');
    const len = this.pagesLen(pgsize, pgcount);
    return this.doUnmap(a.hi, a.lo, len.hi, len.lo, gather);
  }

  private doUnmap(ih: number, il: number, lh: number, ll: number, gather: IommuIotlbGather): U64 {
    if (!(gather instanceof IommuIotlbGather)) throw new PtError('EINVAL', 'unmap needs an IommuIotlbGather');
    this.enter();
    try {
      this.impl.unmap.unmap(this as PtIommu, ih, il, lh, ll, gather);
    } finally {
      this.busy = false;
    }
    const u = this.scratch.unmap;
    return u64Value(u.unmappedHi, u.unmappedLo);
  }

  /**
   * iova_to_phys(): the OA `iova` translates to, 0 if nothing is mapped
   * there. An IOVA outside the table throws the range errno (the kernel
   * returns it cast to an address).
   */
  iovaToPhys(iova: U64): U64 {
    const a = this.a;
    u64Split(iova, a, 'iova');
    this.checkLive();
    const out = this.out;
    const ret = this.impl.query.iovaToPhys(this as PtIommu, a.hi, a.lo, out);
    if (ret) throw PtError.fromErrno(ret, 'iova_to_phys');
    return u64Value(out.hi, out.lo);
  }

  /**
   * iova_to_phys() on words, for hot loops (emulators translating every
   * access): the OA goes to `out`; returns 0, or the negative errno of an
   * IOVA outside the table. Allocates nothing.
   */
  iovaToPhysWords(iovaHi: number, iovaLo: number, out: U64Pair): number {
    this.checkLive();
    return this.impl.query.iovaToPhys(this as PtIommu, iovaHi | 0, iovaLo | 0, out);
  }

  /**
   * read_and_clear_dirty(): report the dirty leaves in [iova, iova + size)
   * to `dirty.bitmap` and, unless IOMMU_DIRTY_NO_CLEAR is in flags, clean
   * them and add them to `dirty.gather` (the caller flushes it).
   */
  readAndClearDirty(iova: U64, size: U64, flags: number, dirty: IommuDirtyBitmap): void {
    const a = this.a;
    const c = this.c;
    u64Split(iova, a, 'iova');
    u64Split(size, c, 'size');
    if (!Number.isInteger(flags) || flags < 0 || flags > 1) throw new PtError('EINVAL', `dirty flags ${flags}`);
    if (!(dirty instanceof IommuDirtyBitmap)) throw new PtError('EINVAL', 'readAndClearDirty needs an IommuDirtyBitmap');
    this.enter();
    let ret: number;
    try {
      ret = this.impl.query.readAndClearDirty(this as PtIommu, a.hi, a.lo, c.hi, c.lo, flags, dirty);
    } finally {
      this.busy = false;
    }
    if (ret) throw PtError.fromErrno(ret, 'read_and_clear_dirty');
  }

  /** set_dirty() (iommufd test op): mark the leaf at iova dirty, as hardware writing through it would. */
  setDirty(iova: U64): void {
    const a = this.a;
    u64Split(iova, a, 'iova');
    this.checkLive();
    const ret = this.impl.query.setDirty(this as PtIommu, a.hi, a.lo);
    if (ret) throw PtError.fromErrno(ret, 'set_dirty');
  }

  /** True if the format has dirty bits (read_and_clear_dirty and set_dirty work). */
  get hasDirtyTracking(): boolean {
    return this.fmt.hasWriteDirty;
  }

  /**
   * deinit(): free every table. The driver must already have detached the
   * hardware and flushed its caches.
   */
  deinit(): void {
    if (!this.live) return;
    this.enter();
    try {
      const common = this.common;
      const s = this.scratch;
      const range = ptAllRange(common, s.collectRange);
      const collect = s.collect;
      collect.freeList.length = 0;
      collect.freeList.push(range.topTable);
      collect.checkMapped = false;
      ptWalkRange(range, this.impl.collect.collectTables, collect);
      if (common.featDmaIncoherent) stopIncoherentList(this as PtIommu, collect.freeList);
      putPagesList(common.mem, collect.freeList);
      this.live = false;
    } finally {
      this.busy = false;
    }
  }

  get isLive(): boolean {
    return this.live;
  }

  /* ---- internals ---- */

  private checkLive(): void {
    if (!this.live) throw new PtError('ENODEV', 'page table used after deinit');
  }

  /** Map and unmap are not re-entrant: a driver callback must not call back in. */
  private enter(): void {
    this.checkLive();
    if (this.busy) throw new PtError('EBUSY', 'page table operation re-entered from a driver callback');
    this.busy = true;
  }

  /** pgsize * pgcount for the *_pages forms; pgsize must be a power of two. */
  private pagesLen(pgsize: U64, pgcount: U64): U64Pair {
    const c = this.c;
    u64Split(pgsize, c, 'pgsize');
    const hi = c.hi;
    const lo = c.lo;
    if ((hi === 0 && (lo === 0 || (lo & (lo - 1)) !== 0)) || (hi !== 0 && (lo !== 0 || (hi & (hi - 1)) !== 0))) {
      throw new PtError('EINVAL', `pgsize ${String(pgsize)} is not a power of two`);
    }
    const lg2 = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
    u64Split(pgcount, c, 'pgcount');
    // pgcount << lg2 must fit in 64 bits
    if ((u64ShrHi(c.hi, c.lo, 64 - lg2) | u64ShrLo(c.hi, c.lo, 64 - lg2)) !== 0) {
      throw new PtError('EOVERFLOW', 'pgsize * pgcount does not fit in 64 bits');
    }
    return c.set(u64ShlHi(c.hi, c.lo, lg2), u64ShlLo(c.hi, c.lo, lg2));
  }
}

function checkProt(prot: number): void {
  if (!Number.isInteger(prot) || prot < 0 || (prot & ~IOMMU_PROT_MASK) !== 0) {
    throw new PtError('EINVAL', `prot ${String(prot)} has bits outside IOMMU_READ..IOMMU_PRIV`);
  }
}
