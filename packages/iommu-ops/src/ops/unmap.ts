/**
 * unmap_range (iommu_pt.h, Linux 7.0). It stops at the first hole (EINVAL
 * inside the walk, which only ends it), removes a whole leaf when the range
 * starts at it (so the result can exceed the length asked for), refuses to
 * start in the middle of a leaf, frees tables the range fully covers, and
 * gathers the length actually unmapped. Public as `unmapRange` and the
 * seed's `unmapPages`.
 *
 * With an OA batch (unmapRange's `oas` option) the same walk also lists each
 * removed leaf's OA range in the caller's OaBatch, so iommufd-style callers
 * unpin what they unmapped without a second walk. When the batch has no
 * room for the next leaf the walk ends before that leaf, at a leaf
 * boundary, as a partial unmap: tables it did not empty stay.
 */
import {
  Errno,
  PtError,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtRange,
  PtState,
  U64Pair,
  log2DivEq,
  log2ToIntHi,
  log2ToIntLo,
  maskHi,
  maskLo,
  ptCheckRange,
  ptDescend,
  ptEntryFullyCovered,
  ptIndexToVa,
  ptIterFirst,
  ptWalkRange,
  u64AddHi,
  u64AddLo,
  u64ShlHi,
  u64ShlLo,
  u64SubHi,
  u64SubLo,
  u64Value,
  type AnyPtFormat,
  type PtEntryOps,
  type U64,
  u64Split,
} from '@genpt/pt-core';
import { checkGather, opError, pagesLen } from '../args.js';
import { OaBatch } from '../oa-batch.js';
import type { IommuIotlbGather } from '../gather.js';
import { flushWritesRange, gatherRangePages, makeRange } from '../helpers.js';
import { ptTestMutations } from '../mutations.js';
import { definePtOp } from '../op.js';
import { PT_OP_BUSY, PT_OP_IDLE } from '../op-state.js';
import type { PtIommu } from '../pt-iommu.js';
import { levelStates } from './states.js';

const EINVAL = -Errno.EINVAL;
const EFAULT = -Errno.EFAULT;
const NONE = 0xffffffff;
/** A level's walk return for "the OA batch is full": ends the walk, is not an error. */
const BATCH_FULL = 1;

/** struct pt_unmap_args, and the rest of an unmap's walk state. */
export class UnmapState {
  readonly t: PtIommu;
  readonly range: PtRange;
  readonly levels: PtState[];
  /** The single-leaf shortcut's state. */
  readonly leaf: PtState;
  freeList: number[] = [];
  unmappedHi = 0;
  unmappedLo = 0;
  readonly iova = new U64Pair();
  readonly len = new U64Pair();
  /** Where an unmap with the `oas` option lists what it unmaps; null otherwise (and between calls). */
  batch: OaBatch | null = null;
  /** One leaf's OA, for the batch. */
  readonly oa = new U64Pair();

  constructor(t: PtIommu) {
    this.t = t;
    this.range = new PtRange(t.common);
    this.levels = levelStates(this.range);
    this.leaf = new PtState(this.range);
  }
}

/** unmapRange's options. */
export interface UnmapOptions {
  /**
   * Also list the OAs unmapped, as merged (oa, len) runs in walk order.
   * When the batch fills, the unmap stops at a leaf boundary (`oas.full`
   * is set) and returns how far it got, like a partial unmap: drain,
   * clear and unmap the rest.
   */
  oas?: OaBatch;
}

/**
 * unmap_range on words; the bytes unmapped are left in the state. Returns 0,
 * or -EFAULT when the walk met a bad table pointer (what it unmapped before
 * is gathered); other walk errors only end the walk, as in the kernel.
 */
export type UnmapWalk = (
  t: PtIommu,
  st: UnmapState,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
  gather: IommuIotlbGather,
) => number;

function buildUnmap(fmt: AnyPtFormat, e: PtEntryOps): UnmapWalk {
  /**
   * With an OA batch: clear the run of leaves at pts whose OAs follow on
   * and add it to the batch as one run; -1, with nothing cleared, when the
   * batch is full and the run does not continue its last one. Kept out of
   * unmapLevel so the plain unmap's walk stays as small as it was.
   */
  function batchLeafRun(st: UnmapState, pts: PtState, isz: number): number {
    const batch = st.batch!;
    const oa = st.oa;
    if (batch.count === batch.capacity) {
      fmt.entryOa(pts, oa);
      if (!batch.continues(oa.hi, oa.lo)) {
        batch.full = true;
        return -1;
      }
    }
    const items = fmt.clearLeafRunOa(pts, pts.endIndex, oa);
    const sz = ptTestMutations.oaBatchPageSized ? st.t.common.itemLg2sz[0]! : isz;
    batch.add(oa.hi, oa.lo, u64ShlHi(0, items, sz), u64ShlLo(0, items, sz));
    return items;
  }

  /** The one-leaf shortcut's batch step: false, with nothing to clear, when the batch is full. */
  function batchOneLeaf(st: UnmapState, pts: PtState, contigLg2: number, sz: number): boolean {
    const batch = st.batch!;
    const oa = st.oa;
    fmt.entryOa(pts, oa);
    if (batch.count === batch.capacity && !batch.continues(oa.hi, oa.lo)) {
      batch.full = true;
      return false;
    }
    const lg2 = ptTestMutations.oaBatchPageSized ? st.t.common.itemLg2sz[0]! + contigLg2 : sz;
    batch.add(oa.hi, oa.lo, log2ToIntHi(lg2), log2ToIntLo(lg2));
    return true;
  }

  /** __unmap_range() */
  function unmapLevel(range: PtRange, st: UnmapState, level: number, table: number): number {
    const t = st.t;
    const isz = t.common.itemLg2sz[level]!;
    const pts = st.levels[level]!.init(range, level, table);
    let flushStart = NONE;
    let flushEnd = NONE;
    let numOas = 0;
    let ret = 0;

    ptIterFirst(pts);
    const startIndex = pts.index;
    pts.type = fmt.loadEntryRaw(pts);
    // Starting inside a leaf: the IOMMU API never splits large pages, and
    // removing one is only allowed from its first byte.
    if (pts.type === PT_ENTRY_OA) {
      const sz = fmt.entryNumContigLg2(pts) + isz;
      if (((range.vaHi & maskHi(sz)) | (range.vaLo & maskLo(sz))) !== 0) return EINVAL;
    }

    for (;;) {
      if (pts.type === PT_ENTRY_OA) {
        // A run of leaves (a range ending inside a leaf removes all of it);
        // the format clears it in one loop and loads the item after it.
        const first = pts.index;
        if (st.batch === null) numOas += fmt.clearLeafRun(pts, pts.endIndex);
        else {
          const items = batchLeafRun(st, pts, isz);
          if (items < 0) {
            ret = BATCH_FULL;
            break;
          }
          numOas += items;
        }
        if (first >>> 0 < flushStart >>> 0) flushStart = first;
        flushEnd = pts.index;
        if (pts.index >= pts.endIndex) break;
        continue;
      }
      if (pts.type !== PT_ENTRY_TABLE) {
        ret = EINVAL;
        break;
      }
      if (pts.index !== startIndex) ptIndexToVa(pts);
      pts.tableLower = fmt.tablePa(pts);
      const fullyCovered = ptEntryFullyCovered(pts, isz);
      ret = ptDescend(pts, st, unmapLevel);
      // An error, or a full batch inside the lower table (which then holds the rest and stays).
      if (ret) break;
      // A table the range covers entirely goes too, once its contents did.
      if (fullyCovered) {
        st.freeList.push(pts.tableLower);
        fmt.clearEntries(pts, 0);
        if (pts.index >>> 0 < flushStart >>> 0) flushStart = pts.index;
        flushEnd = pts.index + 1;
      }
      pts.index++;
      if (pts.index >= pts.endIndex) break;
      pts.type = fmt.loadEntryRaw(pts);
    }

    // unmapped += numOas << isz
    const addHi = u64ShlHi(0, numOas, isz);
    const addLo = u64ShlLo(0, numOas, isz);
    const hi = u64AddHi(st.unmappedHi, st.unmappedLo, addHi, addLo);
    st.unmappedLo = u64AddLo(st.unmappedHi, st.unmappedLo, addHi, addLo);
    st.unmappedHi = hi;
    if (flushStart !== flushEnd) flushWritesRange(t, pts, flushStart, flushEnd);
    return ret;
  }

  /**
   * A shortcut for the commonest unmap, a range inside one leaf (a page, or
   * one large or contiguous entry), with the general walk's exact result:
   * descend by single entries; a hole or a misaligned start unmaps nothing
   * (the walk would stop there with EINVAL); a leaf starting at va and
   * holding the whole range is cleared whole. Returns false where the
   * general walk must decide (the range continues past the leaf, or
   * incoherent cache maintenance is needed).
   */
  function unmapOneLeaf(st: UnmapState): boolean {
    const t = st.t;
    if (t.common.featDmaIncoherent) return false;
    const range = st.range;
    const pts = st.leaf;
    const type = e.ptWalkToEntry(pts, range);
    // A bad table pointer: the general walk stops there with EFAULT.
    if (type === PT_ENTRY_TABLE) return false;
    if (type !== PT_ENTRY_OA) return true;
    const isz = t.common.itemLg2sz[pts.level]!;
    const sz = fmt.entryNumContigLg2(pts) + isz;
    if (((range.vaHi & maskHi(sz)) | (range.vaLo & maskLo(sz))) !== 0) return true;
    if (!log2DivEq(range.vaHi, range.vaLo, range.lastHi, range.lastLo, sz)) return false;
    if (st.batch !== null && !batchOneLeaf(st, pts, sz - isz, sz)) return true;
    fmt.clearEntries(pts, sz - isz);
    st.unmappedHi = log2ToIntHi(sz);
    st.unmappedLo = log2ToIntLo(sz);
    return true;
  }

  return function unmap(t, st, iovaHi, iovaLo, lenHi, lenLo, gather) {
    const range = st.range;
    st.unmappedHi = 0;
    st.unmappedLo = 0;
    if (st.freeList.length !== 0) st.freeList.length = 0;
    // A range the table cannot hold unmaps nothing and leaves the gather alone.
    const m = lenLo - 1;
    if (lenHi === 0 && lenLo >= 4096 && (lenLo & m) === 0 && (iovaLo & m) === 0) {
      // An aligned power of two below 2 GiB (a page of any granule, one
      // large or contiguous leaf: the commonest unmaps): last = iova | m,
      // no carry.
      const common = t.common;
      range.topTable = common.topTable;
      range.topLevel = common.topLevel;
      range.maxVaszLg2 = common.topSpanLg2;
      range.vaHi = iovaHi;
      range.vaLo = iovaLo;
      range.lastHi = iovaHi;
      range.lastLo = iovaLo | m;
      if (ptCheckRange(range) !== 0) return 0;
    } else if (makeRange(t.common, range, iovaHi, iovaLo, lenHi, lenLo) !== 0) return 0;
    const ret = unmapOneLeaf(st) ? 0 : ptWalkRange(range, unmapLevel, st);
    if (ptTestMutations.any) gatherMutated(gather, t, st, iovaHi, iovaLo, lenHi, lenLo);
    else gatherRangePages(gather, t, iovaHi, iovaLo, st.unmappedHi, st.unmappedLo, st.freeList);
    return ret === EFAULT ? ret : 0;
  };
}

/** gather_range_pages() with the test-only mutations of ../mutations.ts applied. */
export function gatherMutated(
  g: IommuIotlbGather,
  t: PtIommu,
  st: UnmapState,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
): void {
  let hi = st.unmappedHi;
  let lo = st.unmappedLo;
  if (ptTestMutations.gatherRequestedLength && (hi | lo) !== 0) {
    hi = lenHi;
    lo = lenLo;
  }
  if (ptTestMutations.gatherOnePageShort) {
    const page = 2 ** t.common.itemLg2sz[0]!;
    if (hi !== 0 || lo >>> 0 > page) {
      const h = u64SubHi(hi, lo, 0, page);
      lo = u64SubLo(hi, lo, 0, page);
      hi = h;
    }
  }
  if (ptTestMutations.gatherDropsFreedTables) st.freeList.length = 0;
  gatherRangePages(g, t, iovaHi, iovaLo, hi, lo, st.freeList);
}

function runUnmap(t: PtIommu, st: UnmapState, gather: IommuIotlbGather, walk: UnmapWalk): U64 {
  checkGather(gather);
  if (t.opState !== PT_OP_IDLE || t.common.checked) t.opBegin();
  else t.opState = PT_OP_BUSY;
  let ret: number;
  try {
    // Read once: a callback's refused call may still overwrite st.iova.
    const iovaHi = st.iova.hi;
    const iovaLo = st.iova.lo;
    ret = walk(t, st, iovaHi, iovaLo, st.len.hi, st.len.lo, gather);
    // Tables the unmap left empty but did not cover whole go too (opts.reclaim).
    if (ret === 0 && t.reclaimOnUnmap && (st.unmappedHi | st.unmappedLo) !== 0) {
      ret = t.walks.reclaim(t, t.states.reclaim, iovaHi, iovaLo, st.unmappedHi, st.unmappedLo, gather);
    }
  } finally {
    t.opState = PT_OP_IDLE;
  }
  const unmapped = u64Value(st.unmappedHi, st.unmappedLo);
  // A bad table pointer: what was unmapped is gathered and named in the error.
  if (ret !== 0) throw opError(t.common, ret, 'unmap', unmapped);
  return unmapped;
}

/** unmapRange with options: the same walk, with the batch in its state for this call only. */
function unmapWithOptions(t: PtIommu, iova: U64, len: U64, gather: IommuIotlbGather, opts: UnmapOptions): U64 {
  if (typeof opts !== 'object' || opts === null) throw new PtError('EINVAL', 'unmap: opts must be an object');
  const batch = opts.oas;
  if (batch === undefined) return t.unmapRange(iova, len, gather);
  if (!(batch instanceof OaBatch)) throw new PtError('EINVAL', 'unmap: opts.oas must be an OaBatch');
  // A busy table (a callback re-entering) is refused before the state, which
  // the running op owns, is touched.
  if (t.opState !== PT_OP_IDLE) t.opBegin();
  const st = t.states.unmap;
  u64Split(iova, st.iova, 'iova');
  u64Split(len, st.len, 'len');
  batch.full = false;
  st.batch = batch;
  try {
    return runUnmap(t, st, gather, t.walks.unmap);
  } finally {
    st.batch = null;
  }
}

export const unmapOp = definePtOp({
  name: 'unmap',
  newState: (t: PtIommu) => new UnmapState(t),
  build: (fmt, e) => buildUnmap(fmt, e),
  methods: {
    /**
     * unmap_range(): unmap [iova, iova + len), stopping at the first hole.
     * Returns the bytes unmapped, which can exceed len when the range ends
     * inside a large leaf and is 0 when it starts inside one. The changed range
     * and the freed tables go into `gather`; the caller must flush it (see
     * iommuIotlbSync) before the tables are reused. A table pointer that
     * leads outside the table memory (a corrupted table) is EFAULT, with the
     * bytes unmapped before it in the error's `mapped` (and in the gather).
     */
    unmapRange(iova: U64, len: U64, gather: IommuIotlbGather, opts?: UnmapOptions): U64 {
      if (opts !== undefined) return unmapWithOptions(this, iova, len, gather, opts);
      const st = this.states.unmap;
      u64Split(iova, st.iova, 'iova');
      u64Split(len, st.len, 'len');
      return runUnmap(this, st, gather, this.walks.unmap);
    },

    /** The seed's unmap_pages(): unmapRange with len = pgsize * pgcount. */
    unmapPages(iova: U64, pgsize: U64, pgcount: U64, gather: IommuIotlbGather): U64 {
      const st = this.states.unmap;
      u64Split(iova, st.iova, 'iova');
      pagesLen(pgsize, pgcount, st.len);
      return runUnmap(this, st, gather, this.walks.unmap);
    },
  },
});
