/**
 * unmap into an OA batch: unmap_range's walk (same holes, same leaf-start
 * rule, same freed tables and gather) that also lists each removed leaf's
 * OA range in the caller's OaBatch, so iommufd-style callers unpin what
 * they unmapped without a second walk. When the batch has no room for the
 * next leaf the walk ends before that leaf, at a leaf boundary, as a partial
 * unmap: tables it did not empty stay. Public as unmapRange's `oas` option.
 */
import {
  Errno,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  type PtRange,
  maskHi,
  maskLo,
  ptDescend,
  ptEntryFullyCovered,
  ptIndexToVa,
  ptIterFirst,
  ptWalkRange,
  u64AddHi,
  u64AddLo,
  u64ShlHi,
  u64ShlLo,
  log2DivEq,
  log2ToIntHi,
  log2ToIntLo,
  type AnyPtFormat,
  type PtEntryOps,
} from '@genpt/pt-core';
import { flushWritesRange, gatherRangePages, makeRange } from '../helpers.js';
import { ptTestMutations } from '../mutations.js';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { UnmapState, type UnmapWalk, gatherMutated } from './unmap.js';

const EINVAL = -Errno.EINVAL;
const EFAULT = -Errno.EFAULT;
/** A level's walk return for "the batch is full": ends the walk, is not an error. */
const BATCH_FULL = 1;
const NONE = 0xffffffff;

function buildUnmapOas(fmt: AnyPtFormat, e: PtEntryOps): UnmapWalk {
  function unmapLevel(range: PtRange, st: UnmapState, level: number, table: number): number {
    const t = st.t;
    const batch = st.batch!;
    const oa = st.oa;
    const isz = t.common.itemLg2sz[level]!;
    const pts = st.levels[level]!.init(range, level, table);
    let flushStart = NONE;
    let flushEnd = NONE;
    let numOas = 0;
    let ret = 0;

    ptIterFirst(pts);
    const startIndex = pts.index;
    pts.type = fmt.loadEntryRaw(pts);
    if (pts.type === PT_ENTRY_OA) {
      const sz = fmt.entryNumContigLg2(pts) + isz;
      if (((range.vaHi & maskHi(sz)) | (range.vaLo & maskLo(sz))) !== 0) return EINVAL;
    }

    for (;;) {
      if (pts.type === PT_ENTRY_OA) {
        // A full batch takes only a run that continues its last one: look
        // before clearing anything.
        if (batch.count === batch.capacity) {
          fmt.entryOa(pts, oa);
          if (!batch.continues(oa.hi, oa.lo)) {
            batch.full = true;
            ret = BATCH_FULL;
            break;
          }
        }
        // A run of leaves whose OAs follow on, cleared in one loop: one batch entry.
        const first = pts.index;
        const items = fmt.clearLeafRunOa(pts, pts.endIndex, oa);
        const sz = ptTestMutations.oaBatchPageSized ? t.common.itemLg2sz[0]! : isz;
        batch.add(oa.hi, oa.lo, u64ShlHi(0, items, sz), u64ShlLo(0, items, sz));
        numOas += items;
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
      // A stop inside the lower table leaves it holding the rest: it stays.
      if (ret) break;
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

    const addHi = u64ShlHi(0, numOas, isz);
    const addLo = u64ShlLo(0, numOas, isz);
    const hi = u64AddHi(st.unmappedHi, st.unmappedLo, addHi, addLo);
    st.unmappedLo = u64AddLo(st.unmappedHi, st.unmappedLo, addHi, addLo);
    st.unmappedHi = hi;
    if (flushStart !== flushEnd) flushWritesRange(t, pts, flushStart, flushEnd);
    return ret;
  }

  /**
   * The range inside one leaf, as unmap's shortcut (unmap.ts unmapOneLeaf):
   * same result as the walk, or false where the walk must decide.
   */
  function unmapOneLeaf(st: UnmapState): boolean {
    const t = st.t;
    if (t.common.featDmaIncoherent) return false;
    const range = st.range;
    const pts = st.leaf;
    const type = e.ptWalkToEntry(pts, range);
    if (type === PT_ENTRY_TABLE) return false;
    if (type !== PT_ENTRY_OA) return true;
    const isz = t.common.itemLg2sz[pts.level]!;
    const n = fmt.entryNumContigLg2(pts);
    const sz = n + isz;
    if (((range.vaHi & maskHi(sz)) | (range.vaLo & maskLo(sz))) !== 0) return true;
    if (!log2DivEq(range.vaHi, range.vaLo, range.lastHi, range.lastLo, sz)) return false;
    const oa = st.oa;
    const batch = st.batch!;
    fmt.entryOa(pts, oa);
    if (batch.count === batch.capacity && !batch.continues(oa.hi, oa.lo)) {
      batch.full = true;
      return true;
    }
    const lg2 = ptTestMutations.oaBatchPageSized ? t.common.itemLg2sz[0]! + n : sz;
    batch.add(oa.hi, oa.lo, log2ToIntHi(lg2), log2ToIntLo(lg2));
    fmt.clearEntries(pts, n);
    st.unmappedHi = log2ToIntHi(sz);
    st.unmappedLo = log2ToIntLo(sz);
    return true;
  }

  return function unmapOas(t, st, iovaHi, iovaLo, lenHi, lenLo, gather) {
    const range = st.range;
    st.unmappedHi = 0;
    st.unmappedLo = 0;
    if (st.freeList.length !== 0) st.freeList.length = 0;
    if (makeRange(t.common, range, iovaHi, iovaLo, lenHi, lenLo) !== 0) return 0;
    const ret = unmapOneLeaf(st) ? 0 : ptWalkRange(range, unmapLevel, st);
    if (ptTestMutations.any) gatherMutated(gather, t, st, iovaHi, iovaLo, lenHi, lenLo);
    else gatherRangePages(gather, t, iovaHi, iovaLo, st.unmappedHi, st.unmappedLo, st.freeList);
    return ret === EFAULT ? ret : 0;
  };
}

export const unmapOasOp = definePtOp({
  name: 'unmapOas',
  newState: (t: PtIommu) => new UnmapState(t),
  build: (fmt, e) => buildUnmapOas(fmt, e),
  // Reached through unmapRange(iova, len, gather, { oas }) (unmap.ts).
  methods: {},
});
