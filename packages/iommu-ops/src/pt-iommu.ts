/**
 * struct pt_iommu and its ops: a page table of one format driven by the
 * IOMMU algorithms, with the validation, errors and driver interplay of
 * Linux 7.0's iommu_pt.h. Addresses and lengths are {@link U64}s (safe
 * numbers or bigints); failures throw {@link PtError} with the kernel's errno.
 */
import {
  Errno,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtError,
  PtRange,
  PtState,
  TableMemory,
  ptTableMemoryFor,
  U64Pair,
  bit,
  featureNames,
  validateFormat,
  ptTopRange,
  ptTopRangeOf,
  u64Value,
  maskHi,
  maskLo,
  type AnyPtFormat,
  type FormatCfg,
  type FormatHwInfo,
} from '@genpt/pt-core';
import { ptWarned } from '@genpt/pt-core/internal';
import { IOMMU_DOMAIN_PAGING, IommuDomain, type IommuDevice, type IommuDomainOps, type PtIommuDriverOps } from './domain.js';
import type { IommuIotlbGather } from './gather.js';
import { ALLOC_NORMAL, putPagesList, stopIncoherentList, tableAllocTop } from './helpers.js';
import { iommuPtImpl } from './impl.js';
import { PT_OP_BUSY, PT_OP_DEAD, PT_OP_IDLE } from './op-state.js';
import { newStates, type PtOpMethods, type PtOpStates, type PtOpWalks } from './ops/index.js';
import { ptOpsSlots } from './slots.js';
import { checkPreserveDescriptor, type PtPreserveDescriptor } from './preserve-descriptor.js';
import { restoreTable } from './restore.js';

export interface PtIommuOptions {
  /** Where tables are allocated (shared with hardware models). A new one by default. */
  mem?: TableMemory;
  /** Behave like a CONFIG_DEBUG_GENERIC_PT kernel (the kunit suites and golden traces). */
  debug?: boolean;
  /**
   * The checked build: run the kernel's PT_WARN_ON checks, throwing a
   * PtCheckError naming a failed invariant (pt-core check.ts). For tests;
   * default GENPT_CHECKED=1 in the environment.
   */
  checked?: boolean;
  /**
   * Refuse two inputs Linux 7.0 accepts (see README, Known kernel
   * behaviour): a map across the canonical hole of a sign-extended table and
   * a map whose paddr + len passes the maximum OA are ERANGE before anything
   * is written, and iovaToPhys of an IOVA outside the table is 0 (the errno
   * stays available from iovaToPhysWords). Off by default: the kernel's
   * behaviour, as the golden traces record it.
   */
  strict?: boolean;
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
  /**
   * The hitless features cut, split and collapse rely on (the development
   * line's PT_FEAT_OA_SIZE_CHANGE and PT_FEAT_OA_TABLE_XCHG). Default: what
   * the format declares (fmt.oaSizeChange, fmt.oaTableXchg). Turning one off
   * is always allowed; turning on one the format lacks only in a debug
   * table (as CONFIG_DEBUG_GENERIC_PT supports every feature), else init is
   * EOPNOTSUPP.
   */
  hitless?: { oaSizeChange?: boolean; oaTableXchg?: boolean };
  /**
   * Free, through the unmap's gather, every table an unmap leaves with no
   * present item (the kernel frees only tables one unmap covers whole). Off
   * by default: the kernel's behaviour, as the golden traces record it.
   */
  reclaim?: boolean;
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

/** The methods of every registered op (ops/index.ts), installed below. */
// biome-ignore lint/correctness/noUnusedVariables: the merged declaration must repeat the class's type parameters
export interface PtIommu<F extends AnyPtFormat = AnyPtFormat> extends PtOpMethods {}

// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the ops' methods are typed by the interface above and installed on the prototype below
export class PtIommu<F extends AnyPtFormat = AnyPtFormat> {
  readonly fmt: F;
  readonly common: PtCommon;
  readonly domain: IommuDomain;
  readonly driverOps: PtIommuDriverOps;
  readonly iommuDevice: IommuDevice | undefined;
  readonly dirtyWholeContig: boolean;
  /** PT_FEAT_OA_SIZE_CHANGE is on for this table (see {@link PtIommuOptions.hitless}). */
  readonly featOaSizeChange: boolean;
  /** PT_FEAT_OA_TABLE_XCHG is on for this table. */
  readonly featOaTableXchg: boolean;
  /** Unmap also reclaims the tables it empties ({@link PtIommuOptions.reclaim}). */
  readonly reclaimOnUnmap: boolean;
  /** The config the table was made with (a copy; what preserve records). */
  cfg: Readonly<Record<string, number>> = {};
  /** @internal Every op's walk, bound to this table's format (impl.ts). */
  readonly walks: PtOpWalks;
  /** @internal Every op's own walk state for this table (op.ts). */
  readonly states: PtOpStates;
  /**
   * @internal The op gate, one number so the hot check is one compare:
   * PT_OP_IDLE (live, nothing running), PT_OP_BUSY (an op that changes the
   * table is running), PT_OP_DEAD (not initialised, or after deinit).
   */
  opState: number = PT_OP_DEAD;

  private constructor(fmt: F, opts: PtIommuOptions) {
    this.fmt = fmt;
    this.walks = iommuPtImpl(fmt);
    const mem = opts.mem ?? ptTableMemoryFor(fmt);
    this.common = new PtCommon(fmt, mem, {
      debug: opts.debug ?? false,
      strict: opts.strict ?? false,
      ...(opts.checked === undefined ? {} : { checked: opts.checked }),
    });
    this.domain = new IommuDomain(opts.domainOps ?? defaultDomainOps(mem));
    this.domain.table = this as PtIommu;
    this.driverOps = opts.driverOps ?? {};
    this.iommuDevice = opts.iommuDevice;
    this.dirtyWholeContig = opts.dirtyWholeContig ?? false;
    this.featOaSizeChange = opts.hitless?.oaSizeChange ?? fmt.oaSizeChange;
    this.featOaTableXchg = opts.hitless?.oaTableXchg ?? fmt.oaTableXchg;
    this.reclaimOnUnmap = opts.reclaim ?? false;
    this.states = newStates(this as PtIommu);
  }

  /**
   * pt_iommu_<fmt>_init(): build a table from the format's config. Throws a
   * PtError with the kernel's errno when the config is refused.
   */
  static init<F extends AnyPtFormat>(fmt: F, cfg: FormatCfg<F>, opts: PtIommuOptions = {}): PtIommu<F> {
    checkInitArgs(fmt, cfg, opts);
    const t = new PtIommu(fmt, opts ?? {});
    const ret = t.initTable(cfg);
    if (ret) {
      // Nothing was allocated before the top table, the last step.
      throw PtError.fromErrno(ret, `${fmt.name} init: ${t.initReason || 'refused'}`);
    }
    return t;
  }

  /**
   * Adopt a preserved table (KHO restore; an emulator's resume): the pages
   * `descriptor` (from {@link preserve}) lists, in `memory` as they are —
   * allocated blocks (the same memory, the old table abandoned, not
   * deinitialised) or reserved pages of a loaded image
   * (TableMemory.fromImage) — without copying. Everything is checked first
   * (see restore.ts): anything wrong is EINVAL naming the problem, with
   * nothing adopted. Then every translation is what it was and every op
   * continues. `opts` as for init (opts.mem, if given, must be `memory`).
   */
  static restore<F extends AnyPtFormat>(
    fmt: F,
    descriptor: PtPreserveDescriptor,
    memory: TableMemory,
    opts: PtIommuOptions = {},
  ): PtIommu<F> {
    if (!(memory instanceof TableMemory)) throw new PtError('EINVAL', 'restore: memory must be a TableMemory');
    const d = checkPreserveDescriptor(fmt, descriptor);
    checkInitArgs(fmt, d.config, opts);
    if (opts.mem !== undefined && opts.mem !== memory) throw new PtError('EINVAL', `${fmt.name} restore: opts.mem is not memory`);
    const t = new PtIommu(fmt, { ...opts, mem: memory });
    const cfg = d.config as unknown as FormatCfg<F>;
    const ret = t.initTable(cfg, false);
    if (ret) throw new PtError('EINVAL', `${fmt.name} restore: descriptor.config: ${t.initReason || 'refused'}`);
    const problem = restoreTable(t as PtIommu, d);
    if (problem !== '') throw new PtError('EINVAL', `${fmt.name} restore: ${problem}`);
    t.opState = PT_OP_IDLE;
    return t;
  }

  /** Why init refused the config, for its error. */
  private initReason = '';

  private refuse(errno: number, reason: string): number {
    this.initReason = reason;
    return errno;
  }

  /** Init from cfg; with allocTop false (restore) everything but the top table. */
  private initTable(cfg: FormatCfg<F>, allocTop = true): number {
    const fmt = this.fmt;
    const common = this.common;
    this.cfg = Object.freeze(jsonNumbers(cfg));
    for (const k of ['hwMaxVaszLg2', 'hwMaxOaszLg2'] as const) {
      const v = cfg[k];
      if (!Number.isInteger(v) || v < 0 || v > 64) return this.refuse(-Errno.EINVAL, `cfg.${k} ${String(v)} is not a width 0..64`);
    }
    const f = cfg.features;
    if (!Number.isInteger(f) || f < 0 || f > 0xffffffff) return this.refuse(-Errno.EINVAL, `cfg.features ${String(f)} is not a u32 bitmap`);
    if (!cfg.hwMaxVaszLg2 || !cfg.hwMaxOaszLg2) return this.refuse(-Errno.EINVAL, 'cfg.hwMaxVaszLg2 and cfg.hwMaxOaszLg2 must not be 0');
    if (cfg.hwMaxVaszLg2 > fmt.maxVaAddressLg2) {
      return this.refuse(-Errno.EINVAL, `cfg.hwMaxVaszLg2 ${cfg.hwMaxVaszLg2} is past ${fmt.name}'s ${fmt.maxVaAddressLg2}`);
    }
    common.features = f >>> 0;
    common.maxVaszLg2 = cfg.hwMaxVaszLg2;
    common.maxOaszLg2 = cfg.hwMaxOaszLg2;
    let ret = fmt.iommuFmtInit(common, cfg);
    if (ret) return this.refuse(ret, `the ${fmt.name} format refused the config ${JSON.stringify(cfg)}`);
    if (cfg.hwMaxOaszLg2 > fmt.maxOaLg2(common)) {
      return this.refuse(-Errno.EINVAL, `cfg.hwMaxOaszLg2 ${cfg.hwMaxOaszLg2} is past ${fmt.name}'s ${fmt.maxOaLg2(common)}`);
    }
    ret = this.initCommon();
    if (ret) return ret;

    if (!common.debug && ((this.featOaSizeChange && !fmt.oaSizeChange) || (this.featOaTableXchg && !fmt.oaTableXchg))) {
      return this.refuse(
        -Errno.EOPNOTSUPP,
        `${fmt.name} does not support the hitless features asked for in opts.hitless (only debug tables may force them)`,
      );
    }
    const d = this.driverOps;
    if (common.featDynamicTop && (d.changeTop === undefined || d.getTopLock === undefined)) {
      return this.refuse(-Errno.EINVAL, 'DYNAMIC_TOP needs driverOps.changeTop and driverOps.getTopLock');
    }
    if (common.feature(PT_FEAT_SIGN_EXTEND) && (common.feature(PT_FEAT_FULL_VA) || common.featDynamicTop)) {
      return this.refuse(-Errno.EINVAL, 'SIGN_EXTEND cannot be combined with FULL_VA or DYNAMIC_TOP');
    }
    if (common.featDmaIncoherent && this.iommuDevice === undefined) {
      return this.refuse(-Errno.EINVAL, 'DMA_INCOHERENT needs an iommuDevice for cache maintenance');
    }

    this.initDomain();
    if (!allocTop) return 0;

    const top = tableAllocTop(this as PtIommu, common.topLevel, ALLOC_NORMAL);
    if (top < 0) return top;
    common.topSet(top, common.topLevel);
    this.opState = PT_OP_IDLE;
    return 0;
  }

  /** pt_init_common() */
  private initCommon(): number {
    const common = this.common;
    const fmt = this.fmt;
    const top = ptTopRange(common);
    if (top.topLevel > fmt.maxTopLevel) {
      ptWarned(this.common, 'pt_init_common: top_range.top_level > PT_MAX_TOP_LEVEL');
      return this.refuse(-Errno.EINVAL, `top level ${top.topLevel} is past ${fmt.name}'s ${fmt.maxTopLevel}`);
    }
    if (top.topLevel === fmt.maxTopLevel || common.maxVaszLg2 === top.maxVaszLg2) {
      common.features &= ~bit(PT_FEAT_DYNAMIC_TOP);
    }
    if (top.maxVaszLg2 === 64) common.features |= bit(PT_FEAT_FULL_VA);
    common.features >>>= 0;
    // Requested features must be ones this build supports (and, outside
    // debug builds, include every force-enabled one).
    const unsupported = (common.features & ~common.supportedFeatures) >>> 0;
    if (unsupported) {
      return this.refuse(-Errno.EOPNOTSUPP, `${fmt.name} does not support ${featureNames(unsupported, fmt.featureNames).join(', ')}`);
    }
    const missing = (common.forceEnabledFeatures & ~common.features) >>> 0;
    if (!common.debug && missing) {
      return this.refuse(-Errno.EOPNOTSUPP, `${fmt.name} requires ${featureNames(missing, fmt.featureNames).join(', ')} (force-enabled)`);
    }
    // A fixed top must be able to span the VA asked for.
    if (!common.featDynamicTop && top.topLevel !== fmt.maxTopLevel) {
      // (Concatenated tables: the top holds topConcatLg2 bits more.)
      const span = common.numItemsLg2[top.topLevel]! + common.topConcatLg2 + common.itemLg2sz[top.topLevel]!;
      if (common.maxVaszLg2 > span) {
        return this.refuse(
          -Errno.EOPNOTSUPP,
          `a fixed top at level ${top.topLevel} spans ${span} bits, not the ${common.maxVaszLg2} asked for (DYNAMIC_TOP grows it)`,
        );
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
    const range = common.featDynamicTop ? ptTopRangeOf(new PtRange(common), 0, this.fmt.maxTopLevel) : ptTopRange(common);
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
    this.opCheckLive();
    return { pgsizeBitmap: this.pgsizeBitmapOf().bigint() };
  }

  /** The format's hw_info (root pointer and levels for the driver to program). */
  hwInfo(): FormatHwInfo<F> {
    this.opCheckLive();
    const fn = this.fmt.iommuFmtHwInfo;
    if (fn === undefined) throw new PtError('EOPNOTSUPP', `${this.fmt.name} has no hw_info`);
    return fn.call(this.fmt, this.common, ptTopRange(this.common)) as FormatHwInfo<F>;
  }

  /** Features after init (init drops DYNAMIC_TOP when it cannot grow and adds FULL_VA), by name. */
  featureNames(): string[] {
    return featureNames(this.common.features, this.fmt.featureNames);
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
    if (this.opState === PT_OP_DEAD) return;
    this.opBegin();
    try {
      const common = this.common;
      // validate's walk lists every table in collect's order. For a corrupted
      // table (a pointer outside the memory or to a free page) it lists only
      // the sound ones: never free pages a bad pointer merely names.
      const check = this.states.validate;
      const bad = this.walks.validate(this as PtIommu, check);
      if (common.featDmaIncoherent) stopIncoherentList(this as PtIommu, check.tables);
      putPagesList(common.mem, check.tables);
      this.opState = PT_OP_DEAD;
      if (bad !== 0) {
        const more = bad > 1 ? ` (and ${bad - 1} more)` : '';
        throw new PtError('EFAULT', `deinit: ${check.problems[0]!.message}${more}; the sound tables were freed`);
      }
    } finally {
      if (this.opState === PT_OP_BUSY) this.opState = PT_OP_IDLE;
    }
  }

  get isLive(): boolean {
    return this.opState !== PT_OP_DEAD;
  }

  /* ---- for the ops (op.ts) ---- */

  /** @internal An op that only reads or sets one entry may run anytime the table is live. */
  opCheckLive(): void {
    if (this.opState === PT_OP_DEAD) throw new PtError('ENODEV', 'page table used after deinit');
    if (this.common.checked) this.common.lastWarning = '';
  }

  /**
   * @internal An op that walks and changes the table runs alone: a callback
   * (a driver hook, a dirty bitmap) calling one of these on the same table
   * gets EBUSY. Pair with {@link opEnd} in a finally. The ops inline the
   * idle test and call this only to report why they cannot start.
   */
  opBegin(): void {
    if (this.opState !== PT_OP_IDLE) {
      if (this.opState === PT_OP_DEAD) throw new PtError('ENODEV', 'page table used after deinit');
      throw new PtError('EBUSY', 'page table operation re-entered from a callback');
    }
    if (this.common.checked) this.common.lastWarning = '';
    this.opState = PT_OP_BUSY;
  }

  /** @internal */
  opEnd(): void {
    this.opState = PT_OP_IDLE;
  }
}

// Each op's methods, from the original (slot 0) copy of its file.
for (const op of ptOpsSlots[0]!.PT_OPS) {
  for (const [name, fn] of Object.entries(op.methods)) {
    Object.defineProperty(PtIommu.prototype, name, { value: fn, writable: true, configurable: true });
  }
}

/** The config's own number fields, copied (what a descriptor can carry as JSON). */
function jsonNumbers(cfg: object): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(cfg)) if (typeof v === 'number') out[k] = v;
  return out;
}

/** init()'s own arguments, before anything is made (EINVAL naming the argument). */
function checkInitArgs(fmt: unknown, cfg: unknown, opts: unknown): void {
  const f = fmt as Partial<AnyPtFormat> | null;
  if (typeof f !== 'object' || f === null || typeof f.name !== 'string' || typeof f.loadEntryRaw !== 'function') {
    throw new PtError('EINVAL', 'init: fmt is not a page table format');
  }
  try {
    validateFormat(f as AnyPtFormat);
  } catch (e) {
    throw new PtError('EINVAL', `init: ${(e as Error).message}`);
  }
  if (typeof cfg !== 'object' || cfg === null) throw new PtError('EINVAL', `${f.name} init: cfg must be an object`);
  if (opts !== undefined && (typeof opts !== 'object' || opts === null))
    throw new PtError('EINVAL', `${f.name} init: opts must be an object`);
  const o = (opts ?? {}) as PtIommuOptions;
  if (o.mem !== undefined && !(o.mem instanceof TableMemory)) throw new PtError('EINVAL', `${f.name} init: opts.mem must be a TableMemory`);
  if (o.reclaim !== undefined && typeof o.reclaim !== 'boolean')
    throw new PtError('EINVAL', `${f.name} init: opts.reclaim must be a boolean`);
  if (o.hitless !== undefined) {
    const h = o.hitless as Record<string, unknown> | null;
    if (typeof h !== 'object' || h === null) throw new PtError('EINVAL', `${f.name} init: opts.hitless must be an object`);
    for (const k of ['oaSizeChange', 'oaTableXchg']) {
      if (h[k] !== undefined && typeof h[k] !== 'boolean')
        throw new PtError('EINVAL', `${f.name} init: opts.hitless.${k} must be a boolean`);
    }
  }
  for (const k of ['driverOps', 'domainOps', 'iommuDevice'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'object' || v === null))
      throw new PtError('EINVAL', `${f.name} init: opts.${k} must be an object`);
  }
}
