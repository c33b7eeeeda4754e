/**
 * Template (see pt-core specialize.ts): unmap_range for one format, as
 * iommu_pt.h has it in Linux 7.0. It stops at the first hole (EINVAL inside
 * the walk, which only ends it), removes a whole leaf when the range starts
 * at it (so the result can exceed the length asked for), refuses to start in
 * the middle of a leaf, frees tables the range fully covers, and gathers the
 * length actually unmapped.
 */
import type * as Core from '@genpt/pt-core';
import type { IommuIotlbGather } from '../gather.js';
import type { OpsLib } from '../ops-lib.js';
import type { PtIommu } from '../pt-iommu.js';
import type { UnmapArgs } from '../scratch.js';

export function unmapTemplate(fmt: Core.AnyPtFormat, core: typeof Core, e: Core.PtEntryOps, lib: OpsLib) {
  const {
    PT_ENTRY_OA,
    PT_ENTRY_TABLE,
    Errno,
    ptDescend,
    ptEntryFullyCovered,
    ptIndexToVa,
    ptIterFirst,
    ptWalkRange,
    maskHi,
    maskLo,
    u64ShlHi,
    u64ShlLo,
    log2DivEq,
    log2ToIntHi,
    log2ToIntLo,
  } = core;
  const { flushWritesRange, gatherRangePages, makeRange } = lib;
  const EINVAL = -Errno.EINVAL;
  const NONE = 0xffffffff;

  /** __unmap_range() */
  function unmapRangeWalk(range: Core.PtRange, unmap: UnmapArgs, level: number, table: number): number {
    const t = unmap.owner;
    const isz = t.common.itemLg2sz[level]!;
    const pts = unmap.states[level]!.init(range, level, table);
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
        numOas += fmt.clearLeafRun(pts, pts.endIndex);
        if ((first >>> 0) < (flushStart >>> 0)) flushStart = first;
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
      ret = ptDescend(pts, unmap, unmapRangeWalk);
      if (ret) break;
      // A table the range covers entirely goes too, once its contents did.
      if (fullyCovered) {
        unmap.freeList.push(pts.tableLower);
        fmt.clearEntries(pts, 0);
        if ((pts.index >>> 0) < (flushStart >>> 0)) flushStart = pts.index;
        flushEnd = pts.index + 1;
      }
      pts.index++;
      if (pts.index >= pts.endIndex) break;
      pts.type = fmt.loadEntryRaw(pts);
    }

    // unmapped += numOas << isz
    const addHi = u64ShlHi(0, numOas, isz);
    const addLo = u64ShlLo(0, numOas, isz);
    const lo = (unmap.unmappedLo + addLo) | 0;
    unmap.unmappedHi = (unmap.unmappedHi + addHi + ((unmap.unmappedLo >>> 0) + (addLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
    unmap.unmappedLo = lo;
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
  function unmapOneLeaf(t: PtIommu, range: Core.PtRange, unmap: UnmapArgs): boolean {
    if (t.common.featDmaIncoherent) return false;
    const pts = t.scratch.queryStates[0]!;
    if (e.ptWalkToEntry(pts, range) !== PT_ENTRY_OA) return true;
    const level = pts.level;
    const sz = fmt.entryNumContigLg2(pts) + t.common.itemLg2sz[level]!;
    if (((range.vaHi & maskHi(sz)) | (range.vaLo & maskLo(sz))) !== 0) return true;
    if (!log2DivEq(range.vaHi, range.vaLo, range.lastHi, range.lastLo, sz)) return false;
    fmt.clearEntries(pts, sz - t.common.itemLg2sz[level]!);
    unmap.unmappedHi = log2ToIntHi(sz);
    unmap.unmappedLo = log2ToIntLo(sz);
    return true;
  }

  /**
   * unmap_range(): bytes unmapped are left in the unmap arguments. A range
   * the table cannot hold unmaps nothing and leaves the gather alone.
   */
  function unmap(t: PtIommu, iovaHi: number, iovaLo: number, lenHi: number, lenLo: number, gather: IommuIotlbGather): void {
    const s = t.scratch;
    const args = s.unmap;
    const range = s.unmapRange;
    args.unmappedHi = 0;
    args.unmappedLo = 0;
    if (args.freeList.length !== 0) args.freeList.length = 0;
    if (makeRange(t.common, range, iovaHi, iovaLo, lenHi, lenLo) !== 0) return;
    if (!unmapOneLeaf(t, range, args)) ptWalkRange(range, unmapRangeWalk, args);
    gatherRangePages(gather, t, iovaHi, iovaLo, args.unmappedHi, args.unmappedLo, args.freeList);
  }

  return { unmap, unmapRangeWalk };
}
