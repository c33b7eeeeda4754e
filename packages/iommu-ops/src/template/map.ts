/**
 * Template (see pt-core specialize.ts): map_range for one format, as
 * iommu_pt.h has it in Linux 7.0 — the single-page fast path, the general
 * walk that picks the best page size per step and places runs of leaves
 * (num_leaves), table allocation by compare-exchange, replacement of empty
 * tables under a larger leaf (clear_contig), and growth of a DYNAMIC_TOP table.
 *
 * The walkers return a negative errno (0 on success) and report progress in
 * the map arguments, exactly like the kernel's, including its quirks: a size
 * that cannot be placed becomes page size 0 and fails with ENXIO (or
 * EADDRINUSE) where the walk next needs a table.
 */
import type * as Core from '@genpt/pt-core';
import type { IommuIotlbGather } from '../gather.js';
import type { OpsLib } from '../ops-lib.js';
import type { PtIommu } from '../pt-iommu.js';
import type { CollectArgs, MapArgs } from '../scratch.js';

export function mapTemplate(
  fmt: Core.AnyPtFormat,
  core: typeof Core,
  e: Core.PtEntryOps,
  lib: OpsLib,
  collect: { collectTables: (range: Core.PtRange, arg: CollectArgs, level: number, table: number) => number },
) {
  const {
    PT_ENTRY_EMPTY,
    PT_ENTRY_TABLE,
    IOMMU_READ,
    IOMMU_WRITE,
    Errno,
    U64Pair,
    ptCheckRange,
    ptComputeBestPgsize,
    ptDescend,
    ptIndexToVa,
    ptIterFirst,
    ptMakeRange,
    ptPgszCount,
    ptTopRangeOf,
    ptWalkDescendAll,
    log2ToIntHi,
    log2ToIntLo,
    maskHi,
    maskLo,
    u64AddHi,
    u64AddLo,
    u64ShlHi,
    u64ShlLo,
  } = core;
  const {
    ALLOC_DEFER_COHERENT_FLUSH,
    ALLOC_NORMAL,
    flushWritesItem,
    flushWritesRange,
    freeTableIncoherent,
    gatherRangePages,
    iommuIotlbGatherInit,
    iommuIotlbSync,
    makeRangeNoCheck,
    putPagesList,
    stopIncoherentList,
    tableAllocChild,
    tableAllocTop,
  } = lib;
  const { collectTables } = collect;

  const EINVAL = -Errno.EINVAL;
  const ENXIO = -Errno.ENXIO;
  const EAGAIN = -Errno.EAGAIN;
  const ERANGE = -Errno.ERANGE;
  const EADDRINUSE = -Errno.EADDRINUSE;
  /** SW bit an incoherent table pointer gets once its item has been written back. */
  const SW_BIT_CACHE_FLUSH_DONE = 0;
  const PAGE_SHIFT = 12;
  const swMask = new U64Pair();

  /** pt_test_sw_bit_acquire() for this format. */
  function testSwBit(pts: Core.PtState, bitnr: number): boolean {
    fmt.swBit(bitnr, swMask);
    return ((pts.entryHi & swMask.hi) | (pts.entryLo & swMask.lo)) !== 0;
  }

  /** pt_set_sw_bit_release() for this format. */
  function setSwBit(pts: Core.PtState, bitnr: number): void {
    fmt.swBit(bitnr, swMask);
    const w = pts.base + (pts.index << 1);
    const lo = pts.words[w]! | swMask.lo;
    const hi = pts.words[w + 1]! | swMask.hi;
    pts.words[w] = lo;
    pts.words[w + 1] = hi;
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  /** pt_iommu_new_table(): allocate a lower table and swing the empty item to it. */
  function newTable(t: PtIommu, pts: Core.PtState, attrs: Core.PtWriteAttrs): number {
    // Level 0 cannot point to a table: the request could not be represented.
    if (pts.level === 0) return ENXIO;
    const pa = tableAllocChild(t, pts, ALLOC_NORMAL);
    if (pa < 0) return pa;
    if (!fmt.installTable(pts, pa, attrs)) {
      freeTableIncoherent(t, pa);
      return EAGAIN;
    }
    if (t.common.featDmaIncoherent) {
      flushWritesItem(t, pts);
      setSwBit(pts, SW_BIT_CACHE_FLUSH_DONE);
    }
    // The format must be able to hold the table's address.
    fmt.loadEntryRaw(pts);
    if (fmt.tablePa(pts) !== pa) {
      fmt.clearEntries(pts, 0);
      freeTableIncoherent(t, pa);
      return EINVAL;
    }
    pts.type = PT_ENTRY_TABLE;
    pts.tableLower = pa;
    return 0;
  }

  /**
   * clear_contig(): the items a new leaf will cover must hold no leaf; empty
   * tables among them are unlinked and freed through the gather.
   */
  function clearContig(t: PtIommu, startPts: Core.PtState, gather: IommuIotlbGather, step: number): number {
    const s = t.scratch;
    const range = s.contigRange.copyFrom(startPts.range);
    const pts = s.contigState.init(range, startPts.level, startPts.table);
    const c = s.collect;
    const isz = t.common.itemLg2sz[pts.level]!;
    const end = startPts.index + step;
    // The kernel steps with pt_next_entry(), which also moves the cursor;
    // here the cursor is only moved where it is read (a table to free).
    // The range is private to this function, so nothing else can tell.
    for (let index = startPts.index; index < end; index++) {
      pts.index = index;
      const type = fmt.loadEntryRaw(pts);
      if (type === PT_ENTRY_EMPTY) continue;
      if (type !== PT_ENTRY_TABLE) return EADDRINUSE;
      pts.type = type;
      pts.tableLower = fmt.tablePa(pts);
      if (index !== startPts.index) ptIndexToVa(pts);
      if (c.freeList.length !== 0) c.freeList.length = 0;
      c.checkMapped = true;
      const ret = ptWalkDescendAll(pts, collectTables, c, s.collectRange);
      if (ret) return ret;
      // The item must be cleared before the gather may be flushed.
      fmt.clearEntries(pts, 0);
      flushWritesItem(t, pts);
      c.freeList.push(pts.tableLower);
      gatherRangePages(gather, t, range.vaHi, range.vaLo, log2ToIntHi(isz), log2ToIntLo(isz), c.freeList);
    }
    return 0;
  }

  /** __map_range_leaf(): place leaves at the leaf level, num_leaves at a time. */
  function mapRangeLeaf(range: Core.PtRange, map: MapArgs, level: number, table: number): number {
    const t = map.owner;
    const common = t.common;
    const pts = map.states[level]!.init(range, level, table);
    const leafPgsizeLg2 = map.leafPgsizeLg2;
    const isz = common.itemLg2sz[level]!;
    const step = 1 << (leafPgsizeLg2 - isz);
    const needContig = leafPgsizeLg2 !== isz;
    const sizeHi = log2ToIntHi(leafPgsizeLg2);
    const sizeLo = log2ToIntLo(leafPgsizeLg2);
    let oaHi = map.oaHi;
    let oaLo = map.oaLo;
    let numLeaves: number;
    let ret = 0;

    ptIterFirst(pts);
    const startIndex = pts.index;
    const origEnd = pts.endIndex;
    // (7.0 compares leaves with items here; more leaves per table than fit
    // only means extra EAGAIN round trips, never a different result.)
    if (pts.index + map.numLeaves < pts.endIndex) {
      // Need to stop in the middle of the table to change sizes
      pts.endIndex = pts.index + map.numLeaves;
      numLeaves = 0;
    } else {
      numLeaves = map.numLeaves - (pts.endIndex - pts.index);
    }

    do {
      // Runs of empty slots take the format's bulk path: the kernel's loop
      // would only install leaves there (clear_contig finds nothing to do).
      let stop: number;
      let end: number;
      if (!needContig) {
        end = pts.endIndex;
        const n = fmt.installLeafRun(pts, end - pts.index, oaHi, oaLo, leafPgsizeLg2, map.attrs);
        if (n !== 0) {
          // oa += n << leafPgsizeLg2
          const addHi = u64ShlHi(0, n, leafPgsizeLg2);
          const addLo = u64ShlLo(0, n, leafPgsizeLg2);
          oaHi = u64AddHi(oaHi, oaLo, addHi, addLo);
          oaLo = u64AddLo(oaHi, oaLo, addHi, addLo);
          pts.index += n;
          if (pts.index >= end) break;
        }
        stop = pts.index;
      } else {
        end = pts.index + step;
        stop = fmt.findNonEmpty(pts, end);
      }
      if (stop < end) {
        pts.type = fmt.loadEntryRaw(pts);
        if (pts.index !== startIndex) ptIndexToVa(pts);
        ret = clearContig(t, pts, map.gather, step);
        if (ret) break;
      }
      fmt.installLeafEntry(pts, oaHi, oaLo, leafPgsizeLg2, map.attrs);
      const nLo = (oaLo + sizeLo) | 0;
      oaHi = (oaHi + sizeHi + ((oaLo >>> 0) + (sizeLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
      oaLo = nLo;
      pts.index += step;
    } while (pts.index < pts.endIndex);

    flushWritesRange(t, pts, startIndex, pts.index);

    map.oaHi = oaHi;
    map.oaLo = oaLo;
    map.numLeaves = numLeaves;
    if (ret || numLeaves) return ret;

    // range.va is not valid at the end of the table: go back one leaf.
    pts.index -= step;
    ptIndexToVa(pts);
    pts.index += step;
    // last_va = va + size
    const lastLo = (range.vaLo + sizeLo) | 0;
    const lastHi = (range.vaHi + sizeHi + ((range.vaLo >>> 0) + (sizeLo >>> 0) > 0xffffffff ? 1 : 0)) | 0;
    // last_va - 1 == range.last?
    const m1Lo = (lastLo - 1) | 0;
    const m1Hi = lastLo === 0 ? (lastHi - 1) | 0 : lastHi;
    if (m1Hi === range.lastHi && m1Lo === range.lastLo) return 0;

    // The page size changes here: compute the next run.
    const domain = t.domain;
    const bmHi = domain.pgsizeBitmapHi;
    const bmLo = domain.pgsizeBitmapLo;
    const next = ptComputeBestPgsize(bmHi, bmLo, lastHi, lastLo, range.lastHi, range.lastLo, oaHi, oaLo);
    map.leafPgsizeLg2 = next;
    map.leafLevel = fmt.pgszLg2ToLevel(common, next);
    map.numLeaves = ptPgszCount(bmHi, bmLo, lastHi, lastLo, range.lastHi, range.lastLo, oaHi, oaLo, next);

    // Didn't finish this table level, the caller will repeat it.
    if (pts.index !== origEnd) {
      if (pts.index !== startIndex) ptIndexToVa(pts);
      return EAGAIN;
    }
    return 0;
  }

  /** __map_range(): the levels above the leaf level — find or make each table, descend. */
  function mapRange(range: Core.PtRange, map: MapArgs, level: number, table: number): number {
    const t = map.owner;
    const pts = map.states[level]!.init(range, level, table);
    let ret: number;

    ptIterFirst(pts);
    // Descend to a child table
    do {
      pts.type = fmt.loadEntryRaw(pts);
      if (pts.type !== PT_ENTRY_TABLE) {
        if (pts.type !== PT_ENTRY_EMPTY) return EADDRINUSE;
        ret = newTable(t, pts, map.attrs);
        // EAGAIN (a racing installer won) makes the caller walk here again.
        if (ret) return ret;
      } else {
        pts.tableLower = fmt.tablePa(pts);
        // Another mapper installed this table and may still be flushing it;
        // flush it too so this map is visible when it returns.
        if (t.common.featDmaIncoherent && !testSwBit(pts, SW_BIT_CACHE_FLUSH_DONE)) {
          flushWritesItem(t, pts);
        }
      }

      do {
        if (map.leafLevel === level - 1) ret = ptDescend(pts, map, mapRangeLeaf);
        else ret = ptDescend(pts, map, mapRange);
      } while (ret === EAGAIN);
      if (ret) return ret;

      pts.index++;
      ptIndexToVa(pts);
      if (pts.index >= pts.endIndex) break;

      // The leaf level moved up to this level: the caller must run
      // mapRangeLeaf here instead.
      if (map.leafLevel === level) return EAGAIN;
    } while (true);
    return 0;
  }

  /**
   * __map_single_page(): a 4 KiB leaf under tables that already exist.
   * EAGAIN sends the caller to the general walk.
   */
  function mapSinglePage(range: Core.PtRange, map: MapArgs): number {
    const pts = map.states[0]!;
    const type = e.ptWalkToEntry(pts, range);
    if (pts.level !== 0) return EAGAIN;
    if (type !== PT_ENTRY_EMPTY) return EADDRINUSE;
    fmt.installLeafEntry(pts, map.oaHi, map.oaLo, PAGE_SHIFT, map.attrs);
    // No flush: this path is not used when incoherent.
    const nLo = (map.oaLo + 4096) | 0;
    if ((nLo >>> 0) < (map.oaLo >>> 0)) map.oaHi = (map.oaHi + 1) | 0;
    map.oaLo = nLo;
    return 0;
  }

  /**
   * increase_top(): add levels above the top until the range fits, link the
   * old top at index 0 of each new one, and publish under the driver's lock
   * after the driver repointed the hardware (change_top).
   */
  function increaseTop(t: PtIommu, range: Core.PtRange, map: MapArgs): number {
    const common = t.common;
    const s = t.scratch;
    const freeList: number[] = [];
    const oldTable = common.topTable;
    const oldLevel = common.topLevel;
    let newTable = oldTable;
    let newLevel = oldLevel;
    let ret: number;

    for (;;) {
      const topRange = ptTopRangeOf(s.topRange, newTable, newLevel);
      topRange.setVa(range.vaHi, range.vaLo, range.lastHi, range.lastLo);
      if (ptCheckRange(topRange) === 0 && map.leafLevel <= newLevel) break;

      const level = newLevel + 1;
      if (level > fmt.maxTopLevel || common.itemLg2sz[level]! >= common.maxVaszLg2) {
        ret = ERANGE;
        return errFree(t, freeList, ret);
      }
      const pa = tableAllocTop(t, level, ALLOC_DEFER_COHERENT_FLUSH);
      if (pa < 0) return errFree(t, freeList, pa);
      freeList.push(pa);

      // The new top always links to the old one at index 0.
      topRange.topLevel = level;
      topRange.setVa(0, 0, topRange.lastHi, topRange.lastLo);
      const pts = s.topState.init(topRange, level, pa);
      e.ptLoadSingleEntry(pts);
      fmt.installTable(pts, newTable, map.attrs);
      newTable = pa;
      newLevel = level;
    }

    // Make every new table visible at once, after all the links are written.
    if (common.featDmaIncoherent) {
      const dev = t.iommuDevice!;
      for (let i = 0; i < freeList.length; i++) {
        ret = dev.startIncoherent(freeList[i]!, 2 ** common.mem.blockLg2(freeList[i]!));
        if (ret) return errFree(t, freeList, ret);
      }
    }

    // Readers use the top without locks; the hardware must follow the new top
    // before it is published. If someone else grew it meanwhile, start over.
    const driver = t.driverOps;
    const lock = driver.getTopLock!(t);
    lock.lock();
    if (common.topTable !== oldTable || common.topLevel !== oldLevel || newTable === oldTable) {
      lock.unlock();
      return errFree(t, freeList, EAGAIN);
    }
    // No flush: the added levels only add non-present VA.
    try {
      driver.changeTop!(t, newTable, newLevel);
      common.topSet(newTable, newLevel);
    } finally {
      lock.unlock();
    }
    return 0;
  }

  function errFree(t: PtIommu, freeList: number[], ret: number): number {
    if (t.common.featDmaIncoherent) stopIncoherentList(t, freeList);
    putPagesList(t.common.mem, freeList);
    return ret;
  }

  /** check_map_range(): the range fits the table, growing the top if it may. */
  function checkMapRange(t: PtIommu, range: Core.PtRange, map: MapArgs): number {
    const common = t.common;
    let ret: number;
    do {
      ret = ptCheckRange(range);
      if (!common.featDynamicTop) return ret;
      if (!ret && map.leafLevel <= range.topLevel) break;
      ret = increaseTop(t, range, map);
      if (ret && ret !== EAGAIN) return ret;
      // Reload the new top
      ptMakeRange(common, range.vaHi, range.vaLo, range.lastHi, range.lastLo, range);
    } while (ret);
    return 0;
  }

  function doMap(t: PtIommu, range: Core.PtRange, singlePage: boolean, map: MapArgs): number {
    let ret: number;
    // The fast path does not do incoherent flushing.
    if (singlePage && !t.common.featDmaIncoherent) {
      ret = mapSinglePage(range, map);
      if (ret !== EAGAIN) return ret;
    }
    do {
      if (map.leafLevel === range.topLevel) ret = mapRangeLeaf(range, map, range.topLevel, range.topTable);
      else ret = mapRange(range, map, range.topLevel, range.topTable);
    } while (ret === EAGAIN);
    return ret;
  }

  /**
   * map_range(): map [iova, iova + len) to paddr. Returns 0 or a negative
   * errno; the OA reached is left in the map arguments, so the bytes mapped
   * are (map.oa - paddr) on success and on failure alike.
   */
  function map(t: PtIommu, iovaHi: number, iovaLo: number, paHi: number, paLo: number, lenHi: number, lenLo: number, prot: number, gfp: number): number {
    const common = t.common;
    const s = t.scratch;
    const args = s.map;
    const range = s.mapRange;
    const gather = args.gather;
    let ret: number;

    iommuIotlbGatherInit(gather);
    args.oaHi = paHi;
    args.oaLo = paLo;

    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return EINVAL;

    // The table cannot store a paddr past the maximum OA.
    const oasz = common.maxOaszLg2;
    if (oasz < 64 && ((paHi & ~maskHi(oasz)) | (paLo & ~maskLo(oasz))) !== 0) return ERANGE;

    ret = fmt.iommuSetProt(common, args.attrs, prot);
    if (ret) return ret;
    args.attrs.gfp = gfp;

    ret = makeRangeNoCheck(common, range, iovaHi, iovaLo, lenHi, lenLo);
    if (ret) return ret;

    // Target page size and level for the leaves
    let singlePage = false;
    if (lenHi === 0 && lenLo === 4096 && fmt.hasSystemPageSize(common)) {
      if (((iovaLo | paLo) & 0xfff) !== 0) return ENXIO;
      args.leafPgsizeLg2 = PAGE_SHIFT;
      args.leafLevel = 0;
      args.numLeaves = 1;
      singlePage = true;
    } else {
      const domain = t.domain;
      const lg2 = ptComputeBestPgsize(
        domain.pgsizeBitmapHi,
        domain.pgsizeBitmapLo,
        range.vaHi,
        range.vaLo,
        range.lastHi,
        range.lastLo,
        paHi,
        paLo,
      );
      if (!lg2) return ENXIO;
      args.leafPgsizeLg2 = lg2;
      args.leafLevel = fmt.pgszLg2ToLevel(common, lg2);
      args.numLeaves = ptPgszCount(
        domain.pgsizeBitmapHi,
        domain.pgsizeBitmapLo,
        range.vaHi,
        range.vaLo,
        range.lastHi,
        range.lastLo,
        paHi,
        paLo,
        lg2,
      );
    }

    ret = checkMapRange(t, range, args);
    if (ret) return ret;

    ret = doMap(t, range, singlePage, args);

    // Table levels were replaced by leaves: walk caches may still point at them.
    if (gather.freelist.length !== 0) iommuIotlbSync(t.domain, gather);
    return ret;
  }

  return { map, mapRange, mapRangeLeaf, clearContig, increaseTop };
}
