/**
 * map_range (iommu_pt.h, Linux 7.0): the single-page fast path, the general
 * walk that picks the best page size per step and places runs of leaves
 * (num_leaves), table allocation by compare-exchange, replacement of empty
 * tables under a larger leaf (clear_contig), and growth of a DYNAMIC_TOP
 * table (map-top.ts). Public as `mapRange` and the seed's `mapPages`.
 *
 * The walkers return a negative errno (0 on success) and report progress in
 * the map state, exactly like the kernel's, including its quirks: a size
 * that cannot be placed becomes page size 0 and fails with ENXIO (or
 * EADDRINUSE) where the walk next needs a table.
 */
import {
  Errno,
  ptItemOr,
  IOMMU_READ,
  IOMMU_WRITE,
  PAGE_SHIFT,
  PT_ENTRY_EMPTY,
  PT_ENTRY_TABLE,
  PtRange,
  PtState,
  PtWriteAttrs,
  U64Pair,
  log2ToIntHi,
  log2ToIntLo,
  maskHi,
  maskLo,
  ptCheckFailed,
  ptCheckCanonical,
  ptCheckRange,
  ptComputeBestPgsize,
  ptDescend,
  ptIndexToVa,
  ptIterFirst,
  ptMakeRange,
  ptPgszCount,
  ptWalkDescendAll,
  u64AddHi,
  u64AddLo,
  u64AddOverflows,
  u64Eq,
  u64ShlHi,
  u64ShlLo,
  u64SubHi,
  u64SubLo,
  u64Value,
  type AnyPtFormat,
  type PtCommon,
  type PtEntryOps,
  type U64,
  u64Split,
} from '@genpt/pt-core';
import { ptCheckBestPgsize, ptWarned } from '@genpt/pt-core/internal';
import { checkProt, opError, pagesLen } from '../args.js';
import { IommuIotlbGather, iommuIotlbGatherInit } from '../gather.js';
import {
  ALLOC_NORMAL,
  flushWritesItem,
  flushWritesRange,
  freeTableIncoherent,
  gatherRangePages,
  iommuIotlbSync,
  makeRangeNoCheck,
  tableAllocChild,
} from '../helpers.js';
import { definePtOp } from '../op.js';
import { PT_OP_BUSY, PT_OP_IDLE } from '../op-state.js';
import type { PtIommu } from '../pt-iommu.js';
import { CollectState, type CollectWalk } from './collect.js';
import { increaseTopOf, TopState } from './map-top.js';
import { levelStates } from './states.js';

const EINVAL = -Errno.EINVAL;
const ENXIO = -Errno.ENXIO;
const EAGAIN = -Errno.EAGAIN;
const EADDRINUSE = -Errno.EADDRINUSE;
/** SW bit an incoherent table pointer gets once its item has been written back. */
const SW_BIT_CACHE_FLUSH_DONE = 0;

/** struct pt_iommu_map_args, and the rest of a map's walk state. */
export class MapState {
  readonly t: PtIommu;
  /** The range being mapped (the walk's cursor). */
  readonly range: PtRange;
  readonly levels: PtState[];
  readonly gather = new IommuIotlbGather();
  readonly attrs = new PtWriteAttrs();
  /** The OA of the next leaf; at the end, paddr + the bytes mapped. */
  oaHi = 0;
  oaLo = 0;
  leafPgsizeLg2 = 0;
  leafLevel = 0;
  /** Leaves left at the current size (< 2^53). */
  numLeaves = 0;
  /** The prot `attrs` holds (iommu_set_prot depends on prot and the table's features); -1 for none. */
  attrsProt = -1;
  /** The features `attrs` was made under: a driver may set one after creation (VT-d's FORCE_COHERENCE). */
  attrsFeatures = 0;
  /**
   * The single-page fast path's page for this table, bytes: 4 KiB (the
   * kernel's PAGE_SIZE) where the granule is 4 KiB, the granule where it is
   * larger (16/64 KiB: what a kernel of that page size would fast-path);
   * NO_PAGE where there is none (the mock's 2 KiB); -1 not known yet.
   */
  pageLen = -1;
  pageLg2 = 0;
  /** clear_contig's own range and state (its level is also live in the walk). */
  readonly contigRange: PtRange;
  readonly contigState: PtState;
  /** The collect walk clear_contig runs under the map. */
  readonly collect: CollectState;
  readonly top: TopState;
  /** Arguments, split (the public methods' registers). */
  readonly iova = new U64Pair();
  readonly paddr = new U64Pair();
  readonly len = new U64Pair();
  readonly swMask = new U64Pair();

  constructor(t: PtIommu) {
    this.t = t;
    this.range = new PtRange(t.common);
    this.levels = levelStates(this.range);
    this.contigRange = new PtRange(t.common);
    this.contigState = new PtState(this.contigRange);
    this.collect = new CollectState(t);
    this.top = new TopState(t);
  }
}

/** map_range(iova, paddr, len, prot, gfp) on words: 0 or a negative errno; the OA reached is in the state. */
export type MapWalk = (
  t: PtIommu,
  st: MapState,
  iovaHi: number,
  iovaLo: number,
  paHi: number,
  paLo: number,
  lenHi: number,
  lenLo: number,
  prot: number,
  gfp: number,
) => number;

function buildMap(fmt: AnyPtFormat, e: PtEntryOps, collectTables: CollectWalk): MapWalk {
  const increaseTop = increaseTopOf(fmt, e);

  /** pt_test_sw_bit_acquire() for this format. */
  function testSwBit(st: MapState, pts: PtState, bitnr: number): boolean {
    fmt.swBit(bitnr, st.swMask);
    return ((pts.entryHi & st.swMask.hi) | (pts.entryLo & st.swMask.lo)) !== 0;
  }

  /** pt_set_sw_bit_release() for this format. */
  function setSwBit(st: MapState, pts: PtState, bitnr: number): void {
    const m = st.swMask;
    fmt.swBit(bitnr, m);
    ptItemOr(pts, m.hi, m.lo);
  }

  /** pt_iommu_new_table(): allocate a lower table and swing the empty item to it. */
  function newTable(st: MapState, pts: PtState): number {
    const t = st.t;
    // Level 0 cannot point to a table: the request could not be represented.
    if (pts.level === 0) {
      ptWarned(t.common, 'pt_iommu_new_table: !pt_can_have_table(pts)');
      return ENXIO;
    }
    const pa = tableAllocChild(t, pts, ALLOC_NORMAL);
    if (pa < 0) return pa;
    if (!fmt.installTable(pts, pa, st.attrs)) {
      freeTableIncoherent(t, pa);
      return EAGAIN;
    }
    if (t.common.featDmaIncoherent) {
      flushWritesItem(t, pts);
      setSwBit(st, pts, SW_BIT_CACHE_FLUSH_DONE);
    }
    // The format must be able to hold the table's address.
    fmt.loadEntryRaw(pts);
    if (fmt.tablePa(pts) !== pa) {
      ptWarned(t.common, 'pt_iommu_new_table: pt_table_pa(pts) != phys');
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
  function clearContig(st: MapState, startPts: PtState, step: number): number {
    const t = st.t;
    const range = st.contigRange.copyFrom(startPts.range);
    const pts = st.contigState.init(range, startPts.level, startPts.table);
    const c = st.collect;
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
      const ret = ptWalkDescendAll(pts, collectTables, c, c.range);
      if (ret) return ret;
      // The item must be cleared before the gather may be flushed.
      fmt.clearEntries(pts, 0);
      flushWritesItem(t, pts);
      c.freeList.push(pts.tableLower);
      gatherRangePages(st.gather, t, range.vaHi, range.vaLo, log2ToIntHi(isz), log2ToIntLo(isz), c.freeList);
    }
    return 0;
  }

  /** The checked build's compute_best_pgsize(&pts, oa) != leaf_pgsize_lg2 for `count` leaves from pts.index. */
  function checkLeafSizes(st: MapState, pts: PtState, count: number, oaHi: number, oaLo: number): void {
    const t = st.t;
    const range = pts.range;
    const lg2 = st.leafPgsizeLg2;
    const sizes = st.swMask;
    const save = pts.index;
    for (let i = 0; i < count; i++) {
      ptIndexToVa(pts);
      fmt.possibleSizes(pts, sizes);
      const best = fmt.canHaveLeaf(pts)
        ? ptComputeBestPgsize(
            sizes.hi & t.domain.pgsizeBitmapHi,
            sizes.lo & t.domain.pgsizeBitmapLo,
            range.vaHi,
            range.vaLo,
            range.lastHi,
            range.lastLo,
            oaHi,
            oaLo,
          )
        : 0;
      if (best !== lg2) ptCheckFailed('__map_range_leaf: compute_best_pgsize(&pts, oa) != leaf_pgsize_lg2', `${best} != ${lg2}`);
      const oh = u64AddHi(oaHi, oaLo, log2ToIntHi(lg2), log2ToIntLo(lg2));
      oaLo = u64AddLo(oaHi, oaLo, log2ToIntHi(lg2), log2ToIntLo(lg2));
      oaHi = oh;
      pts.index += 1 << (lg2 - t.common.itemLg2sz[pts.level]!);
    }
    pts.index = save;
    ptIndexToVa(pts);
  }

  /** __map_range_leaf(): place leaves at the leaf level, num_leaves at a time. */
  function mapLeafLevel(range: PtRange, st: MapState, level: number, table: number): number {
    const t = st.t;
    const common = t.common;
    const checked = common.checked;
    const pts = st.levels[level]!.init(range, level, table);
    const leafPgsizeLg2 = st.leafPgsizeLg2;
    const isz = common.itemLg2sz[level]!;
    const step = 1 << (leafPgsizeLg2 - isz);
    const needContig = leafPgsizeLg2 !== isz;
    const sizeHi = log2ToIntHi(leafPgsizeLg2);
    const sizeLo = log2ToIntLo(leafPgsizeLg2);
    let oaHi = st.oaHi;
    let oaLo = st.oaLo;
    let numLeaves: number;
    let ret = 0;

    if (checked) checkLeafLevel(st, pts);
    ptIterFirst(pts);
    const startIndex = pts.index;
    const origEnd = pts.endIndex;
    // Leaves and items compared in items: 7.0 compares the leaf count with
    // items, so a run of contiguous leaves (ARMv8's 16 x 4 KiB, RISC-V
    // NAPOT) stops after as many items as leaves and comes back once per
    // leaf through EAGAIN and a new size computation. Same leaves, same
    // result; measured on ARMv8 4K x256: 5.4 us a map+unmap pair before.
    // The window ends on a leaf boundary (the table's end or the run's).
    if (pts.index + st.numLeaves * step < pts.endIndex) {
      // Need to stop in the middle of the table to change sizes
      pts.endIndex = pts.index + st.numLeaves * step;
      numLeaves = 0;
    } else {
      numLeaves = st.numLeaves - (pts.endIndex - pts.index) / step;
    }

    do {
      // Runs of empty slots take the format's bulk path: the kernel's loop
      // would only install leaves there (clear_contig finds nothing to do).
      let stop: number;
      let end: number;
      if (!needContig) {
        end = pts.endIndex;
        const n = fmt.installLeafRun(pts, end - pts.index, oaHi, oaLo, leafPgsizeLg2, st.attrs);
        if (n !== 0) {
          if (checked) checkLeafSizes(st, pts, n, oaHi, oaLo);
          // oa += n << leafPgsizeLg2
          const addHi = u64ShlHi(0, n, leafPgsizeLg2);
          const addLo = u64ShlLo(0, n, leafPgsizeLg2);
          const hi = u64AddHi(oaHi, oaLo, addHi, addLo);
          oaLo = u64AddLo(oaHi, oaLo, addHi, addLo);
          oaHi = hi;
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
        ret = clearContig(st, pts, step);
        if (ret) break;
      }
      if (checked) checkLeafSizes(st, pts, 1, oaHi, oaLo);
      fmt.installLeafEntry(pts, oaHi, oaLo, leafPgsizeLg2, st.attrs);
      const hi = u64AddHi(oaHi, oaLo, sizeHi, sizeLo);
      oaLo = u64AddLo(oaHi, oaLo, sizeHi, sizeLo);
      oaHi = hi;
      pts.index += step;
    } while (pts.index < pts.endIndex);

    flushWritesRange(t, pts, startIndex, pts.index);

    st.oaHi = oaHi;
    st.oaLo = oaLo;
    st.numLeaves = numLeaves;
    if (ret || numLeaves) return ret;

    // range.va is not valid at the end of the table: go back one leaf.
    pts.index -= step;
    ptIndexToVa(pts);
    pts.index += step;
    // last_va = va + size
    const lastHi = u64AddHi(range.vaHi, range.vaLo, sizeHi, sizeLo);
    const lastLo = u64AddLo(range.vaHi, range.vaLo, sizeHi, sizeLo);
    if (u64Eq(u64SubHi(lastHi, lastLo, 0, 1), u64SubLo(lastHi, lastLo, 0, 1), range.lastHi, range.lastLo)) {
      if (checked && pts.index !== origEnd) ptCheckFailed('__map_range_leaf: pts.index != orig_end');
      return 0;
    }

    // The page size changes here: compute the next run.
    const domain = t.domain;
    const bmHi = domain.pgsizeBitmapHi;
    const bmLo = domain.pgsizeBitmapLo;
    const next = ptComputeBestPgsize(bmHi, bmLo, lastHi, lastLo, range.lastHi, range.lastLo, oaHi, oaLo);
    if (checked) ptCheckBestPgsize(lastHi, lastLo, range.lastHi, range.lastLo, oaHi, oaLo, next);
    st.leafPgsizeLg2 = next;
    st.leafLevel = fmt.pgszLg2ToLevel(common, next);
    st.numLeaves = ptPgszCount(bmHi, bmLo, lastHi, lastLo, range.lastHi, range.lastLo, oaHi, oaLo, next);

    // Didn't finish this table level, the caller will repeat it.
    if (pts.index !== origEnd) {
      if (pts.index !== startIndex) ptIndexToVa(pts);
      return EAGAIN;
    }
    return 0;
  }

  /** __map_range(): the levels above the leaf level — find or make each table, descend. */
  function mapLevel(range: PtRange, st: MapState, level: number, table: number): number {
    const t = st.t;
    const pts = st.levels[level]!.init(range, level, table);
    let ret: number;

    if (t.common.checked) checkTableLevel(st, level);
    ptIterFirst(pts);
    // Descend to a child table
    for (;;) {
      pts.type = fmt.loadEntryRaw(pts);
      if (pts.type !== PT_ENTRY_TABLE) {
        if (pts.type !== PT_ENTRY_EMPTY) return EADDRINUSE;
        ret = newTable(st, pts);
        // EAGAIN (a racing installer won) makes the caller walk here again.
        if (ret) return ret;
      } else {
        pts.tableLower = fmt.tablePa(pts);
        // Another mapper installed this table and may still be flushing it;
        // flush it too so this map is visible when it returns.
        if (t.common.featDmaIncoherent && !testSwBit(st, pts, SW_BIT_CACHE_FLUSH_DONE)) {
          flushWritesItem(t, pts);
        }
      }

      do {
        if (st.leafLevel === level - 1) ret = ptDescend(pts, st, mapLeafLevel);
        else ret = ptDescend(pts, st, mapLevel);
      } while (ret === EAGAIN);
      if (ret) return ret;

      pts.index++;
      ptIndexToVa(pts);
      if (pts.index >= pts.endIndex) break;

      // The leaf level moved up to this level: the caller must run
      // mapLeafLevel here instead.
      if (st.leafLevel === level) return EAGAIN;
    }
    return 0;
  }

  /**
   * __map_single_page(): a 4 KiB leaf under tables that already exist.
   * EAGAIN sends the caller to the general walk.
   */
  function mapSinglePage(st: MapState): number {
    const pts = st.levels[0]!;
    const type = e.ptWalkToEntry(pts, st.range);
    if (pts.level !== 0) return EAGAIN;
    if (type !== PT_ENTRY_EMPTY) return EADDRINUSE;
    fmt.installLeafEntry(pts, st.oaHi, st.oaLo, st.pageLg2, st.attrs);
    // No flush: this path is not used when incoherent.
    const hi = u64AddHi(st.oaHi, st.oaLo, 0, st.pageLen);
    st.oaLo = u64AddLo(st.oaHi, st.oaLo, 0, st.pageLen);
    st.oaHi = hi;
    return 0;
  }

  /** check_map_range(): the range fits the table, growing the top if it may. */
  function checkMapRange(st: MapState): number {
    const t = st.t;
    const common = t.common;
    const range = st.range;
    let ret: number;
    do {
      ret = ptCheckRange(range);
      if (!common.featDynamicTop) return ret;
      if (!ret && st.leafLevel <= range.topLevel) break;
      ret = increaseTop(t, st.top, range, st.leafLevel, st.attrs);
      if (ret && ret !== EAGAIN) return ret;
      // Reload the new top
      ptMakeRange(common, range.vaHi, range.vaLo, range.lastHi, range.lastLo, range);
    } while (ret);
    if (common.checked) checkRangeFits(range);
    return 0;
  }

  function doMap(st: MapState, singlePage: boolean): number {
    const range = st.range;
    let ret: number;
    // The fast path does not do incoherent flushing.
    if (singlePage && !st.t.common.featDmaIncoherent) {
      ret = mapSinglePage(st);
      if (ret !== EAGAIN) return ret;
    }
    do {
      if (st.leafLevel === range.topLevel) ret = mapLeafLevel(range, st, range.topLevel, range.topTable);
      else ret = mapLevel(range, st, range.topLevel, range.topTable);
    } while (ret === EAGAIN);
    return ret;
  }

  /** iommu_set_prot() into st.attrs, remembered per prot and features (it depends on nothing else). */
  function setProt(st: MapState, prot: number, gfp: number): number {
    const common = st.t.common;
    if (prot !== st.attrsProt || common.features !== st.attrsFeatures) {
      st.attrsProt = -1;
      const ret = fmt.iommuSetProt(common, st.attrs, prot);
      if (ret) return ret;
      st.attrsProt = prot;
      st.attrsFeatures = common.features;
    }
    st.attrs.gfp = gfp;
    return 0;
  }

  /**
   * map_range() of one 4 KiB page whose tables exist: the kernel's steps in
   * its order (prot, paddr width, set_prot, range, alignment, range check,
   * __map_single_page) with nothing the general walk sets up. Returns
   * EAGAIN where the general path must decide (a top that may grow, a table
   * to allocate, a range the fast path does not cover).
   */
  function mapOnePage(
    t: PtIommu,
    st: MapState,
    iovaHi: number,
    iovaLo: number,
    paHi: number,
    paLo: number,
    prot: number,
    gfp: number,
  ): number {
    const common = t.common;
    st.oaHi = paHi;
    st.oaLo = paLo;
    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return EINVAL;
    const oasz = common.maxOaszLg2;
    if (oasz < 64 && ((paHi & ~maskHi(oasz)) | (paLo & ~maskLo(oasz))) !== 0) return -Errno.ERANGE;
    const ret = setProt(st, prot, gfp);
    if (ret) return ret;
    const m = st.pageLen - 1;
    if (((iovaLo | paLo) & m) !== 0) return EAGAIN;
    // An aligned page: last = iova | (page - 1), no carry, no wrap.
    const range = st.range;
    range.topTable = common.topTable;
    range.topLevel = common.topLevel;
    range.maxVaszLg2 = common.topSpanLg2;
    range.vaHi = iovaHi;
    range.vaLo = iovaLo;
    range.lastHi = iovaHi;
    range.lastLo = iovaLo | m;
    if (ptCheckRange(range) !== 0) return common.featDynamicTop ? EAGAIN : -Errno.ERANGE;
    if (common.checked) checkSinglePageSize(t, st.pageLen);
    return mapSinglePage(st);
  }

  return function map(t, st, iovaHi, iovaLo, paHi, paLo, lenHi, lenLo, prot, gfp) {
    const common = t.common;
    const range = st.range;
    const gather = st.gather;
    let ret: number;

    if (st.pageLen < 0) singlePageOf(st, common);
    if (lenHi === 0 && lenLo === st.pageLen && onePageOk(st, t)) {
      // Features may change after creation, so DMA_INCOHERENT is read each time.
      if (!common.featDmaIncoherent) {
        ret = mapOnePage(t, st, iovaHi, iovaLo, paHi, paLo, prot, gfp);
        if (ret !== EAGAIN) return ret;
      }
    }

    iommuIotlbGatherInit(gather);
    st.oaHi = paHi;
    st.oaLo = paLo;

    if (!(prot & (IOMMU_READ | IOMMU_WRITE))) return EINVAL;

    // The table cannot store a paddr past the maximum OA.
    const oasz = common.maxOaszLg2;
    if (oasz < 64 && ((paHi & ~maskHi(oasz)) | (paLo & ~maskLo(oasz))) !== 0) return -Errno.ERANGE;

    ret = setProt(st, prot, gfp);
    if (ret) return ret;

    ret = makeRangeNoCheck(common, range, iovaHi, iovaLo, lenHi, lenLo);
    if (ret) return ret;
    if (common.strict) {
      ret = strictMapChecks(common, range, paHi, paLo, lenHi, lenLo);
      if (ret) return ret;
    }

    // Target page size and level for the leaves
    const domain = t.domain;
    let singlePage = false;
    if (lenHi === 0 && lenLo === st.pageLen && onePageOk(st, t)) {
      if (common.checked) checkSinglePageSize(t, st.pageLen);
      if (((iovaLo | paLo) & (st.pageLen - 1)) !== 0) return ENXIO;
      st.leafPgsizeLg2 = st.pageLg2;
      st.leafLevel = 0;
      st.numLeaves = 1;
      singlePage = true;
    } else {
      const bmHi = domain.pgsizeBitmapHi;
      const bmLo = domain.pgsizeBitmapLo;
      const lg2 = ptComputeBestPgsize(bmHi, bmLo, range.vaHi, range.vaLo, range.lastHi, range.lastLo, paHi, paLo);
      if (!lg2) {
        if (u64Eq(range.vaHi, range.vaLo, range.lastHi, range.lastLo)) ptWarned(common, 'pt_compute_best_pgsize: va >= last_va');
        return ENXIO;
      }
      if (common.checked) ptCheckBestPgsize(range.vaHi, range.vaLo, range.lastHi, range.lastLo, paHi, paLo, lg2);
      st.leafPgsizeLg2 = lg2;
      st.leafLevel = fmt.pgszLg2ToLevel(common, lg2);
      st.numLeaves = ptPgszCount(bmHi, bmLo, range.vaHi, range.vaLo, range.lastHi, range.lastLo, paHi, paLo, lg2);
    }

    ret = checkMapRange(st);
    if (ret) return ret;
    if (common.checked) checkLeafUnderTop(st);

    ret = doMap(st, singlePage);

    // Table levels were replaced by leaves: walk caches may still point at them.
    if (gather.freelist.length !== 0) iommuIotlbSync(domain, gather);
    if (common.checked && !ret) checkMappedAll(st, paHi, paLo, lenHi, lenLo);
    return ret;
  };

  /* The checked build's tests (pt-core check.ts), out of line so the walks stay small. */

  function checkLeafLevel(st: MapState, pts: PtState): void {
    if (st.leafLevel !== pts.level) ptCheckFailed('__map_range_leaf: map->leaf_level != level', undefined, checkLeafLevel);
    if (!fmt.canHaveLeaf(pts)) ptCheckFailed('__map_range_leaf: !pt_can_have_leaf(&pts)', undefined, checkLeafLevel);
  }

  function checkTableLevel(st: MapState, level: number): void {
    if (st.leafLevel === level) ptCheckFailed('__map_range: map->leaf_level == level', undefined, checkTableLevel);
    // Reached by a length with a tail no page size fits (the next size
    // computes to 0, its level past the top): the kernel warns here and
    // again in pt_iommu_new_table, which fails the map with ENXIO.
    if (level === 0) ptWarned(st.t.common, '__map_range: !pt_can_have_table(&pts)');
  }
}

/**
 * A strict table's extra map checks (PtCommonOptions.strict), before
 * anything is written: the range stays on one side of the canonical hole,
 * and its last OA fits the maximum OA (Linux 7.0 checks only the first).
 */
function strictMapChecks(common: PtCommon, range: PtRange, paHi: number, paLo: number, lenHi: number, lenLo: number): number {
  if (ptCheckCanonical(range)) return -Errno.ERANGE;
  // len >= 1 here (make_range refused 0): the last OA is paddr + (len - 1), which must not wrap.
  const lHi = u64SubHi(lenHi, lenLo, 0, 1);
  const lLo = u64SubLo(lenHi, lenLo, 0, 1);
  if (u64AddOverflows(paHi, paLo, lHi, lLo)) return -Errno.ERANGE;
  const endHi = u64AddHi(paHi, paLo, lHi, lLo);
  const endLo = u64AddLo(paHi, paLo, lHi, lLo);
  const oasz = common.maxOaszLg2;
  if (oasz < 64 && ((endHi & ~maskHi(oasz)) | (endLo & ~maskLo(oasz))) !== 0) return -Errno.ERANGE;
  return 0;
}

function checkRangeFits(range: PtRange): void {
  if (ptCheckRange(range) !== 0) ptCheckFailed('check_map_range: pt_check_range(range)', undefined, checkRangeFits);
}

/** MapState.pageLen for this table (its geometry is fixed by init). */
function singlePageOf(st: MapState, common: PtCommon): void {
  const g = common.granuleLg2sz;
  st.pageLg2 = common.fmt.hasSystemPageSize(common) ? PAGE_SHIFT : g > PAGE_SHIFT ? g : 0;
  st.pageLen = st.pageLg2 === 0 ? NO_PAGE : 2 ** st.pageLg2;
}

/**
 * A length of one page may take the single-page paths: always for 4 KiB,
 * as the kernel (its PT_WARN_ON names a domain without PAGE_SIZE); for a
 * larger granule only while the domain's page sizes hold it, so a narrowed
 * domain gets the general path's answer.
 */
function onePageOk(st: MapState, t: PtIommu): boolean {
  return st.pageLg2 === PAGE_SHIFT || (t.domain.pgsizeBitmapLo & st.pageLen) !== 0;
}

/** MapState.pageLen: no single-page path. */
const NO_PAGE = -2;

function checkSinglePageSize(t: PtIommu, page: number): void {
  if (!(t.domain.pgsizeBitmapLo & page)) ptCheckFailed('map_range: !(pgsize_bitmap & PAGE_SIZE)', undefined, checkSinglePageSize);
}

function checkLeafUnderTop(st: MapState): void {
  if (st.leafLevel > st.range.topLevel) ptCheckFailed('map_range: map.leaf_level > range.top_level', undefined, checkLeafUnderTop);
}

function checkMappedAll(st: MapState, paHi: number, paLo: number, lenHi: number, lenLo: number): void {
  if (!u64Eq(u64SubHi(st.oaHi, st.oaLo, paHi, paLo), u64SubLo(st.oaHi, st.oaLo, paHi, paLo), lenHi, lenLo)) {
    ptCheckFailed('map_range: !ret && map.oa - paddr != len', undefined, checkMappedAll);
  }
}

function runMap(t: PtIommu, st: MapState, prot: number, gfp: number): U64 {
  if (t.opState !== PT_OP_IDLE || t.common.checked) t.opBegin();
  else t.opState = PT_OP_BUSY;
  let ret: number;
  const b = st.paddr;
  try {
    const a = st.iova;
    const c = st.len;
    ret = t.walks.map(t, st, a.hi, a.lo, b.hi, b.lo, c.hi, c.lo, prot, gfp);
  } finally {
    t.opState = PT_OP_IDLE;
  }
  // Bytes mapped (the kernel's *mapped): the OA reached minus paddr.
  const mapped = u64Value(u64SubHi(st.oaHi, st.oaLo, b.hi, b.lo), u64SubLo(st.oaHi, st.oaLo, b.hi, b.lo));
  if (ret) throw opError(t.common, ret, 'map', mapped);
  return mapped;
}

export const mapOp = definePtOp({
  name: 'map',
  newState: (t: PtIommu) => new MapState(t),
  build: (fmt, e, walks) => buildMap(fmt, e, (walks as { collect: CollectWalk }).collect),
  methods: {
    /**
     * map_range(): map [iova, iova + len) to [paddr, paddr + len) with the
     * largest page sizes the alignment allows. Returns the bytes mapped (len).
     * On failure throws a PtError whose `mapped` is what was mapped before it
     * (that part stays mapped, as in the kernel).
     */
    mapRange(iova: U64, paddr: U64, len: U64, prot: number, gfp = 0): U64 {
      const st = this.states.map;
      u64Split(iova, st.iova, 'iova');
      u64Split(paddr, st.paddr, 'paddr');
      u64Split(len, st.len, 'len');
      checkProt(prot);
      return runMap(this, st, prot, gfp);
    },

    /**
     * The seed's map_pages(): pgcount pages of pgsize (a power of two), i.e.
     * mapRange with len = pgsize * pgcount.
     */
    mapPages(iova: U64, paddr: U64, pgsize: U64, pgcount: U64, prot: number, gfp = 0): U64 {
      const st = this.states.map;
      u64Split(iova, st.iova, 'iova');
      u64Split(paddr, st.paddr, 'paddr');
      pagesLen(pgsize, pgcount, st.len);
      checkProt(prot, 'map_pages');
      return runMap(this, st, prot, gfp);
    },
  },
});
