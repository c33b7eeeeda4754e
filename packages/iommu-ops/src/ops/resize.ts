/**
 * What cut, split and collapse share: rebuilding present leaves as other
 * leaves of the same translation, with no moment at which any address
 * translates differently.
 *
 * An op first plans every leaf it changes and builds, privately, every new
 * table the plan needs (the only allocations, so ENOMEM leaves the live
 * table as it was and frees what was built). Then it applies the plans:
 * a contiguous entry is rewritten item by item from a staged copy (each
 * item on its own is a correct leaf for its VA: PT_FEAT_OA_SIZE_CHANGE), and
 * a single item becomes a table in one store (PT_FEAT_OA_TABLE_XCHG). Every
 * store to the live table goes through {@link storeLiveItem}, which runs
 * TableMemory.storeHook, so a test can walk each intermediate state.
 *
 * These ops are not on the map/unmap hot path; VAs and OAs are bigints here
 * (one per leaf changed, never per page) and become words at format calls.
 */
import {
  Errno,
  PtRange,
  PtState,
  PtWriteAttrs,
  U64Pair,
  hiOfBig,
  ptTopMemsizeLg2,
  log2ToIntHi,
  log2ToIntLo,
  loOfBig,
  u64ToBigInt,
  PtError,
  ffs64,
  fls64,
  type AnyPtFormat,
  type PtCommon,
} from '@genpt/pt-core';
import { ptWarned } from '@genpt/pt-core/internal';
import type { IommuIotlbGather } from '../gather.js';
import {
  ALLOC_DEFER_COHERENT_FLUSH,
  flushWritesRange,
  gatherBeforeChange,
  gatherRangePages,
  tableAllocLg2,
  tableBytes,
} from '../helpers.js';
import { ptTestMutations } from '../mutations.js';
import type { PtIommu } from '../pt-iommu.js';

export const EINVAL = -Errno.EINVAL;
export const ENOENT = -Errno.ENOENT;
export const ENXIO = -Errno.ENXIO;
export const EOPNOTSUPP = -Errno.EOPNOTSUPP;
export const EFAULT = -Errno.EFAULT;

/** One piece of a rebuilt leaf: a leaf of 2^lg2 at va, or (lg2 < 0) an item that becomes the table `child`. */
export interface ResizePiece {
  va: bigint;
  lg2: number;
  child: number;
}

/** A live leaf (possibly contiguous) and what replaces it. */
export interface ResizePlan {
  level: number;
  table: number;
  /** Index of the entry's first item and log2 of its items. */
  first: number;
  numLg2: number;
  /** VA and OA of the entry's first byte. */
  va: bigint;
  oa: bigint;
  attrsHi: number;
  attrsLo: number;
  dirty: boolean;
  pieces: ResizePiece[];
}

/** The walk state of one resize op (each op owns one). */
export class ResizeState {
  readonly t: PtIommu;
  readonly range: PtRange;
  /** The cursor of walks to an entry. */
  readonly pts: PtState;
  /** Writer of live items. */
  readonly live: PtState;
  /** Range for states over private or staged tables (only its common matters). */
  readonly privRange: PtRange;
  /** One state per level for filling private tables. */
  readonly priv: PtState[] = [];
  /** A state over the staging table, where a contiguous entry is rewritten before it is copied live. */
  readonly stage: PtState;
  /** The staging table of this op (stageAlloc), or -1. */
  stagePa = -1;
  readonly attrs = new PtWriteAttrs();
  readonly out = new U64Pair();
  readonly iova = new U64Pair();
  readonly len = new U64Pair();
  /** Leaf sizes each level can hold in this domain (bigint bitmaps). */
  sizes: bigint[] = [];
  plans: ResizePlan[] = [];
  /** Private tables allocated by the plans, for undo. */
  built: number[] = [];
  freeList: number[] = [];
  /** Pieces must not cross these VAs. */
  bounds: bigint[] = [];
  /** Pieces starting in [capFirst, capLast] are at most 2^capLg2. */
  capFirst = 0n;
  capLast = -1n;
  capLg2 = 64;
  /** The op's range, inclusive. */
  first = 0n;
  last = 0n;
  /** Something mapped was met (else ENOENT). */
  found = false;
  /** Collapse: the run a whole table holds (see collapse.ts). */
  runOa = 0n;
  runAttrsHi = 0;
  runAttrsLo = 0;
  runDirty = false;

  constructor(t: PtIommu) {
    this.t = t;
    this.range = new PtRange(t.common);
    this.pts = new PtState(this.range);
    this.privRange = new PtRange(t.common);
    this.live = new PtState(this.privRange);
    this.stage = new PtState(this.privRange);
    for (let l = 0; l <= t.fmt.maxTopLevel; l++) this.priv.push(new PtState(this.privRange));
  }
}

/** Set up the per-op constraints and the sizes each level may hold. */
export function resizeBegin(st: ResizeState, fmt: AnyPtFormat): void {
  const t = st.t;
  const common = t.common;
  st.plans.length = 0;
  st.built.length = 0;
  st.freeList.length = 0;
  st.bounds.length = 0;
  st.capFirst = 0n;
  st.capLast = -1n;
  st.capLg2 = 64;
  st.found = false;
  const dom = u64ToBigInt(t.domain.pgsizeBitmapHi, t.domain.pgsizeBitmapLo);
  const pts = st.priv[0]!;
  pts.range = st.privRange;
  st.sizes.length = 0;
  for (let level = 0; level <= common.topLevel; level++) {
    pts.level = level;
    fmt.possibleSizes(pts, st.out);
    st.sizes.push(fmt.canHaveLeaf(pts) ? u64ToBigInt(st.out.hi, st.out.lo) & dom : 0n);
  }
}

/** Last VA a piece starting at va may reach: before the next bound, and at most last. */
export function segLast(st: ResizeState, va: bigint, last: bigint): bigint {
  let end = last;
  for (const b of st.bounds) if (b > va && b - 1n < end) end = b - 1n;
  return end;
}

/** Index of the highest set bit of a u64 bigint (x > 0). */
function bigFls(x: bigint): number {
  return fls64(hiOfBig(x), loOfBig(x)) - 1;
}

/** Index of the lowest set bit of a u64 bigint, 64 for 0. */
function bigFfs(x: bigint): number {
  return ffs64(hiOfBig(x), loOfBig(x));
}

/**
 * Largest leaf size at `level` for a piece at va/oa ending by last, under the
 * cap; -1 if none. The bound comes from the alignment of va and oa and the
 * room to last in O(1), then the highest size of the level under it (a
 * search from 2^63 down took ~50 bigint steps per piece: most of a cut).
 */
export function bestLg2(st: ResizeState, level: number, va: bigint, oa: bigint, last: bigint): number {
  const sizes = st.sizes[level]!;
  if (sizes === 0n || last < va) return -1;
  const cap = va >= st.capFirst && va <= st.capLast ? st.capLg2 : 64;
  const isz = st.t.common.itemLg2sz[level]!;
  // 2^lg2 - 1 <= last - va, va and oa aligned to 2^lg2, lg2 <= cap.
  const span = last - va + 1n;
  const top = Math.min(63, cap, bigFfs(va | oa), span >> 64n !== 0n ? 64 : bigFls(span));
  if (top < isz) return -1;
  const fit = (sizes & ((2n << BigInt(top)) - 1n)) >> BigInt(isz);
  return fit === 0n ? -1 : bigFls(fit) + isz;
}

/**
 * Last VA of the run of single-item pieces (2^isz) that starts at va, a
 * piece where bestLg2 gave isz, ending by seg: up to where the cap starts
 * or ends, or the next VA aligned to the level's next larger size (only
 * there could a larger piece start: the OA keeps its offset to the VA, and
 * the room only shrinks).
 */
function singleRunLast(st: ResizeState, level: number, va: bigint, seg: bigint, isz: number): bigint {
  let end = seg;
  let sizes = st.sizes[level]!;
  if (va < st.capFirst && st.capFirst - 1n < end) end = st.capFirst - 1n;
  if (va >= st.capFirst && va <= st.capLast) {
    if (st.capLast < end) end = st.capLast;
    // Under the cap only sizes up to it count (a split to 4 KiB: one run to the cap's end).
    if (st.capLg2 < 63) sizes &= (2n << BigInt(st.capLg2)) - 1n;
  }
  const larger = sizes >> BigInt(isz + 1);
  if (larger !== 0n) {
    const nl = BigInt(bigFfs(larger) + isz + 1);
    const next = ((va >> nl) + 1n) << nl;
    if (next - 1n < end) end = next - 1n;
  }
  return end;
}

/** The pieces [va, last] with OA oa becomes at `level`, or undefined when a piece cannot exist (ENXIO). */
export function planPieces(st: ResizeState, level: number, va: bigint, last: bigint, oa: bigint): ResizePiece[] | undefined {
  const isz = BigInt(st.t.common.itemLg2sz[level]!);
  const pieces: ResizePiece[] = [];
  for (let p = va; p <= last; ) {
    const lg2 = bestLg2(st, level, p, oa + (p - va), segLast(st, p, last));
    if (lg2 < 0) {
      // Smaller than an item: the item becomes a table, which level 0 cannot hold.
      if (level === 0) return undefined;
      pieces.push({ va: p, lg2: -1, child: 0 });
      p += 1n << isz;
    } else {
      pieces.push({ va: p, lg2, child: 0 });
      p += 1n << BigInt(lg2);
    }
  }
  return pieces;
}

/** Set the dirty state of the entry pts points at (set_dirty on a table no walker sees yet). */
export function markDirty(fmt: AnyPtFormat, pts: PtState): void {
  pts.type = fmt.loadEntryRaw(pts);
  fmt.entryMakeWriteDirty(pts);
}

/**
 * Fill the private table at `level` with leaves for [va, last] (its whole
 * span) at OA oa, making deeper private tables where a piece must be
 * smaller than an item.
 */
function fillPrivate(
  st: ResizeState,
  fmt: AnyPtFormat,
  level: number,
  table: number,
  va: bigint,
  last: bigint,
  oa: bigint,
  dirty: boolean,
): number {
  const common = st.t.common;
  const isz = common.itemLg2sz[level]!;
  const idxMask = BigInt((1 << common.numItemsLg2[level]!) - 1);
  for (let p = va; p <= last; ) {
    const o = oa + (p - va);
    const index = Number((p >> BigInt(isz)) & idxMask);
    const seg = segLast(st, p, last);
    const lg2 = bestLg2(st, level, p, o, seg);
    if (lg2 >= 0) {
      const pts = st.priv[level]!.init(st.privRange, level, table);
      pts.index = index;
      if (lg2 === isz && !dirty) {
        // Single items until a larger piece could start: one bulk install.
        // Whole items only: the run's end need not be item aligned (a bound inside an item).
        const count = Number((singleRunLast(st, level, p, seg, isz) - p + 1n) >> BigInt(isz));
        const n = count > 1 ? fmt.installLeafRun(pts, count, hiOfBig(o), loOfBig(o), lg2, st.attrs) : 0;
        if (n !== 0) {
          p += BigInt(n) << BigInt(isz);
          continue;
        }
      }
      pts.type = fmt.loadEntryRaw(pts);
      fmt.installLeafEntry(pts, hiOfBig(o), loOfBig(o), lg2, st.attrs);
      if (dirty) markDirty(fmt, pts);
      p += 1n << BigInt(lg2);
      continue;
    }
    if (level === 0) return ENXIO;
    const child = tableAllocLg2(st.t, common.tableBytesLg2(level - 1), ALLOC_DEFER_COHERENT_FLUSH);
    if (child < 0) return child;
    st.built.push(child);
    const end = p + (1n << BigInt(isz)) - 1n;
    const ret = fillPrivate(st, fmt, level - 1, child, p, end, o, dirty);
    if (ret) return ret;
    const pts = st.priv[level]!.init(st.privRange, level, table);
    pts.index = index;
    pts.type = fmt.loadEntryRaw(pts);
    if (!fmt.installTable(pts, child, st.attrs)) return EINVAL;
    p = end + 1n;
  }
  return 0;
}

/**
 * Plan the change of the leaf `pts` holds (loaded by a walk): its pieces
 * under the op's bounds and cap, the features that needs, and its new
 * tables, built privately. 0 (also when the leaf stays as it is) or an errno.
 */
export function planLeaf(st: ResizeState, fmt: AnyPtFormat, pts: PtState): number {
  const t = st.t;
  const common = t.common;
  const level = pts.level;
  const isz = common.itemLg2sz[level]!;
  const numLg2 = fmt.entryNumContigLg2(pts);
  const span = isz + numLg2;
  const vaNow = u64ToBigInt(pts.range.vaHi, pts.range.vaLo);
  const va = vaNow & ~((1n << BigInt(span)) - 1n);
  const last = va + (1n << BigInt(span)) - 1n;
  fmt.entryOa(pts, st.out);
  const oa = u64ToBigInt(st.out.hi, st.out.lo);
  const pieces = planPieces(st, level, va, last, oa);
  if (pieces === undefined) return ENXIO;
  if (pieces.length === 1 && pieces[0]!.lg2 === span) return 0;
  const needSize = numLg2 > 0;
  const needXchg = pieces.some((p) => p.lg2 < 0);
  if ((needSize && !t.featOaSizeChange) || (needXchg && !t.featOaTableXchg)) return EOPNOTSUPP;
  fmt.attrFromEntry(pts, st.attrs);
  const dirty = fmt.hasWriteDirty && fmt.entryIsWriteDirty(pts);
  // A dirty leaf whose pieces could not be marked dirty would lose pages from dirty tracking.
  if (dirty && !fmt.hasMakeWriteDirty) return EOPNOTSUPP;
  if (needSize) {
    const r = stageAlloc(st);
    if (r) return r;
  }
  const plan: ResizePlan = {
    level,
    table: pts.table,
    first: pts.index & ~((1 << numLg2) - 1),
    numLg2,
    va,
    oa,
    attrsHi: st.attrs.descriptorHi,
    attrsLo: st.attrs.descriptorLo,
    dirty,
    pieces,
  };
  for (const p of pieces) {
    if (p.lg2 >= 0) continue;
    const child = tableAllocLg2(t, common.tableBytesLg2(level - 1), ALLOC_DEFER_COHERENT_FLUSH);
    if (child < 0) return child;
    st.built.push(child);
    p.child = child;
    const ret = fillPrivate(st, fmt, level - 1, child, p.va, p.va + (1n << BigInt(isz)) - 1n, oa + (p.va - va), dirty);
    if (ret) return ret;
  }
  st.plans.push(plan);
  return 0;
}

/** Free every private table built (a failed plan): nothing live points at them. */
export function resizeUndo(st: ResizeState): void {
  const mem = st.t.common.mem;
  for (const pa of st.built) mem.free(pa);
  st.built.length = 0;
  st.plans.length = 0;
  stageFree(st);
}

/**
 * The private tables become visible to an incoherent walker before anything
 * points at them (the kernel's pt_radix_start_incoherent_list). 0 or an errno.
 */
export function resizeStartIncoherent(st: ResizeState): number {
  const t = st.t;
  if (!t.common.featDmaIncoherent) return 0;
  const dev = t.iommuDevice!;
  for (let i = 0; i < st.built.length; i++) {
    const pa = st.built[i]!;
    const ret = dev.startIncoherent(pa, tableBytes(t.common, pa));
    if (ret) {
      for (let j = 0; j < i; j++) dev.stopIncoherent(st.built[j]!, tableBytes(t.common, st.built[j]!));
      return ret;
    }
  }
  return 0;
}

/** Write one staged item into the live table and let a test see the state it makes. */
export function storeLiveItem(common: PtCommon, live: PtState, index: number, hi: number, lo: number): void {
  live.setItem(index, hi, lo);
  common.mem.noteStore(live.table + (index << common.itemBytesLg2));
}

/**
 * Allocate the staging table (once per op, before anything live changes):
 * real table memory as large as the largest table, because formats write
 * items through the arena (ptFillEntries), not through a state's words.
 */
export function stageAlloc(st: ResizeState): number {
  if (st.stagePa >= 0) return 0;
  const common = st.t.common;
  let lg2 = ptTopMemsizeLg2(common, common.topLevel);
  for (let l = 0; l < common.topLevel; l++) lg2 = Math.max(lg2, common.tableBytesLg2(l));
  const pa = tableAllocLg2(st.t, lg2, ALLOC_DEFER_COHERENT_FLUSH);
  if (pa < 0) return pa;
  st.stagePa = pa;
  return 0;
}

/** Free the staging table at the end of an op. */
export function stageFree(st: ResizeState): void {
  if (st.stagePa < 0) return;
  const pa = st.stagePa;
  st.stagePa = -1;
  st.t.common.mem.free(pa);
}

/** A state at `level` over the staging table, items at the same indexes as the live table's. */
export function stageAt(st: ResizeState, level: number): PtState {
  return st.stage.init(st.privRange, level, st.stagePa);
}

/** Copy items [first, end) of the staged table into the live one, one store per item that differs. */
export function copyStagedItems(st: ResizeState, live: PtState, first: number, end: number): void {
  const stage = st.stage;
  const common = st.t.common;
  for (let i = first; i < end; i++) {
    const lo = stage.itemLo(i);
    const hi = stage.itemHi(i);
    if (live.itemLo(i) !== lo || live.itemHi(i) !== hi) storeLiveItem(common, live, i, hi, lo);
  }
}

/** Copy items [first, end) from one state's table to another's (same indexes). */
export function copyItems(from: PtState, to: PtState, first: number, end: number): void {
  to.words.set(from.words.subarray(from.itemWord(first), from.itemWord(end)), to.itemWord(first));
}

/** Apply one plan to the live table and gather the leaf's old span. 0 or an errno. */
function applyPlan(st: ResizeState, fmt: AnyPtFormat, plan: ResizePlan, gather: IommuIotlbGather): number {
  const t = st.t;
  const common = t.common;
  const isz = common.itemLg2sz[plan.level]!;
  const live = st.live.init(st.privRange, plan.level, plan.table);
  const end = plan.first + (1 << plan.numLg2);
  const span = isz + plan.numLg2;
  gatherBeforeChange(gather, t, hiOfBig(plan.va), loOfBig(plan.va), log2ToIntHi(span), log2ToIntLo(span));
  st.attrs.set(plan.attrsHi, plan.attrsLo);
  if (plan.numLg2 > 0) {
    // Rewrite the contiguous entry in a copy, then item by item: each item
    // is a correct leaf for its own VA, whichever size it says.
    const stage = stageAt(st, plan.level);
    copyItems(live, stage, plan.first, end);
    for (const p of plan.pieces) {
      stage.index = plan.first + Number((p.va - plan.va) >> BigInt(isz));
      const o = plan.oa + (p.va - plan.va);
      // An item that becomes a table is first a single-item leaf of the same OA.
      fmt.installLeafEntry(stage, hiOfBig(o), loOfBig(o), p.lg2 >= 0 ? p.lg2 : isz, st.attrs);
      if (plan.dirty) markDirty(fmt, stage);
    }
    copyStagedItems(st, live, plan.first, end);
  }
  for (const p of plan.pieces) {
    if (p.lg2 >= 0) continue;
    live.index = plan.first + Number((p.va - plan.va) >> BigInt(isz));
    live.type = fmt.loadEntryRaw(live);
    if (!fmt.installTable(live, p.child, st.attrs)) {
      ptWarned(common, 'cut: pt_install_table() failed (locking violation)');
      return EINVAL;
    }
    common.mem.noteStore(live.table + (live.index << common.itemBytesLg2));
  }
  flushWritesRange(t, live, plan.first, end);
  if (ptTestMutations.resizeGathersNothing) return 0;
  gatherRangePages(gather, t, hiOfBig(plan.va), loOfBig(plan.va), log2ToIntHi(span), log2ToIntLo(span), st.freeList);
  return 0;
}

/** Apply every plan (after they all built). 0 or an errno. */
export function resizeApply(st: ResizeState, fmt: AnyPtFormat, gather: IommuIotlbGather): number {
  const ret = resizeStartIncoherent(st);
  if (ret) {
    resizeUndo(st);
    return ret;
  }
  for (const plan of st.plans) {
    const r = applyPlan(st, fmt, plan, gather);
    if (r) {
      stageFree(st);
      return r;
    }
  }
  st.plans.length = 0;
  st.built.length = 0;
  stageFree(st);
  return 0;
}

/** iova and len of split/collapse: aligned to the smallest page, len not 0 (EINVAL, as map). */
export function checkResizeRange(t: PtIommu, st: ResizeState, what: string): void {
  const d = t.domain;
  const lg2 = ffs64(d.pgsizeBitmapHi, d.pgsizeBitmapLo);
  const iova = u64ToBigInt(st.iova.hi, st.iova.lo);
  const len = u64ToBigInt(st.len.hi, st.len.lo);
  const mask = (1n << BigInt(lg2)) - 1n;
  if (len === 0n) throw new PtError('EINVAL', `${what}: len is 0`);
  if ((iova & mask) !== 0n)
    throw new PtError(
      'EINVAL',
      `${what}: iova 0x${iova.toString(16)} is not aligned to the smallest page size 0x${(mask + 1n).toString(16)}`,
    );
  if ((len & mask) !== 0n)
    throw new PtError(
      'EINVAL',
      `${what}: len 0x${len.toString(16)} is not a multiple of the smallest page size 0x${(mask + 1n).toString(16)}`,
    );
}
