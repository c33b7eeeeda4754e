/**
 * collapse_range ("increase page size"), to run at full IO speed again after
 * dirty tracking or a cut: inside [iova, iova + len), a table whose items
 * are one aligned, physically contiguous run of leaves with one set of
 * attributes becomes a single leaf of its parent (one store of a leaf over
 * the table pointer: PT_FEAT_OA_TABLE_XCHG), and runs of items a larger
 * contiguous entry can hold are rewritten as it, item by item
 * (PT_FEAT_OA_SIZE_CHANGE). Tables are visited children first, so merges
 * cascade up. The merged leaf is dirty if any part was. Freed tables and
 * changed spans go into the gather; translations never change.
 */
import {
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  hiOfBig,
  log2ToIntHi,
  log2ToIntLo,
  loOfBig,
  maskHi,
  maskLo,
  u64AddHi,
  u64AddLo,
  u64ShlHi,
  u64ShlLo,
  ptTablePointerFault,
  ptTablePointerOk,
  u64Split,
  u64ToBigInt,
  type AnyPtFormat,
  type PtEntryOps,
  type PtState,
  type U64,
} from '@genpt/pt-core';
import { checkGather } from '../args.js';
import type { IommuIotlbGather } from '../gather.js';
import { flushWritesItem, flushWritesRange, gatherBeforeChange, gatherRangePages, makeRange } from '../helpers.js';
import { ptTestMutations } from '../mutations.js';
import { definePtOp, runTableOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import {
  checkResizeRange,
  copyItems,
  copyStagedItems,
  ENOENT,
  EOPNOTSUPP,
  markDirty,
  planPieces,
  ResizeState,
  resizeBegin,
  stageAlloc,
  stageAt,
  stageFree,
  storeLiveItem,
} from './resize.js';
import { firstItem, lastItem, topItemsLg2, topTableVa } from './table-window.js';

export type CollapseWalk = (
  t: PtIommu,
  st: ResizeState,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
  gather: IommuIotlbGather,
) => number;

/** One leaf entry met in a run. */
interface RunEntry {
  index: number;
  numLg2: number;
  oa: bigint;
  dirty: boolean;
}

function buildCollapse(fmt: AnyPtFormat, _e: PtEntryOps): CollapseWalk {
  /**
   * The attributes of the loaded leaf without its dirty state (leaves that
   * differ only in it merge, dirty if any was), read from a cleaned copy.
   * Returns whether the leaf was dirty.
   */
  function cleanAttrs(st: ResizeState, pts: PtState): boolean {
    // A clean leaf's attributes are its own: no copy to clean. Only a dirty
    // leaf is cleaned, as read_and_clear_dirty does: ARMv8's clean clears
    // S2AP[1], which without DBM is the write permission.
    if (!fmt.hasWriteDirty || !fmt.entryIsWriteDirty(pts)) {
      fmt.attrFromEntry(pts, st.attrs);
      return false;
    }
    const numLg2 = fmt.entryNumContigLg2(pts);
    const first = pts.index & ~((1 << numLg2) - 1);
    const stage = stageAt(st, pts.level);
    copyItems(pts, stage, first, first + (1 << numLg2));
    stage.index = pts.index;
    stage.type = fmt.loadEntryRaw(stage);
    fmt.entryMakeWriteClean(stage);
    stage.type = fmt.loadEntryRaw(stage);
    fmt.attrFromEntry(stage, st.attrs);
    return true;
  }

  /**
   * True if the whole table is one run a leaf of its span can replace: every
   * item a leaf, OAs contiguous from an OA aligned to the span, one set of
   * attributes. Leaves the run in st.run*.
   */
  function wholeRun(st: ResizeState, pts: PtState, items: number, isz: number, spanLg2: number): boolean {
    let dirty = false;
    // The next item's expected OA, in words (no bigint per item: a 1 GiB
    // collapse reads 262144 of them).
    let nextHi = 0;
    let nextLo = 0;
    const out = st.out;
    // Entry by entry (a contiguous entry's items are its own): per item,
    // cleanAttrs and the dirty test would each read the whole entry again.
    for (let i = 0; i < items; ) {
      pts.index = i;
      if (fmt.loadEntryRaw(pts) !== PT_ENTRY_OA) return false;
      fmt.itemOa(pts, out);
      if (cleanAttrs(st, pts)) dirty = true;
      if (i === 0) {
        if (((out.hi & maskHi(spanLg2)) | (out.lo & maskLo(spanLg2))) !== 0) return false;
        st.runOa = u64ToBigInt(out.hi, out.lo);
        st.runAttrsHi = st.attrs.descriptorHi;
        st.runAttrsLo = st.attrs.descriptorLo;
      } else if (
        out.hi !== nextHi ||
        out.lo !== nextLo ||
        st.attrs.descriptorHi !== st.runAttrsHi ||
        st.attrs.descriptorLo !== st.runAttrsLo
      ) {
        return false;
      }
      const n = 1 << fmt.entryNumContigLg2(pts);
      // next = this item's OA + n items
      const addHi = u64ShlHi(0, n, isz);
      const addLo = u64ShlLo(0, n, isz);
      nextHi = u64AddHi(out.hi, out.lo, addHi, addLo);
      nextLo = u64AddLo(out.hi, out.lo, addHi, addLo);
      i += n;
    }
    if (dirty && !fmt.hasMakeWriteDirty) return false;
    st.runDirty = dirty;
    return true;
  }

  /** Rewrite one run of leaves [entries] of the table at `level` as its largest pieces, if they differ. */
  function mergeRun(st: ResizeState, pts: PtState, tva: bigint, entries: RunEntry[], gather: IommuIotlbGather): void {
    const t = st.t;
    const level = pts.level;
    const isz = t.common.itemLg2sz[level]!;
    const first = entries[0]!;
    const lastE = entries[entries.length - 1]!;
    const end = lastE.index + (1 << lastE.numLg2);
    const va = tva + (BigInt(first.index) << BigInt(isz));
    const last = tva + (BigInt(end) << BigInt(isz)) - 1n;
    const pieces = planPieces(st, level, va, last, first.oa);
    if (pieces === undefined || pieces.length === entries.length || pieces.some((p) => p.lg2 < 0)) return;
    const n = BigInt(end - first.index) << BigInt(isz);
    gatherBeforeChange(gather, t, hiOfBig(va), loOfBig(va), hiOfBig(n), loOfBig(n));
    const stage = stageAt(st, level);
    copyItems(pts, stage, first.index, end);
    st.attrs.set(st.runAttrsHi, st.runAttrsLo);
    let k = 0;
    for (const p of pieces) {
      const pEnd = p.va + (1n << BigInt(p.lg2));
      let dirty = false;
      // (not `dirty ||= entries[k++].dirty`: once dirty, that never advances k)
      while (k < entries.length && tva + (BigInt(entries[k]!.index) << BigInt(isz)) < pEnd) {
        if (entries[k]!.dirty) dirty = true;
        k++;
      }
      stage.index = Number((p.va - tva) >> BigInt(isz));
      const o = first.oa + (p.va - va);
      fmt.installLeafEntry(stage, hiOfBig(o), loOfBig(o), p.lg2, st.attrs);
      if (dirty) markDirty(fmt, stage);
    }
    copyStagedItems(st, pts, first.index, end);
    flushWritesRange(t, pts, first.index, end);
    gatherRangePages(gather, t, hiOfBig(va), loOfBig(va), hiOfBig(n), loOfBig(n), st.freeList);
  }

  /** Merge runs of leaves in items [lo, hi] of the table pts holds. */
  function mergeRuns(st: ResizeState, pts: PtState, tva: bigint, lo: number, hi: number, gather: IommuIotlbGather): void {
    const isz = st.t.common.itemLg2sz[pts.level]!;
    let run: RunEntry[] = [];
    let nextOa = 0n;
    const flush = () => {
      if (run.length > 1) mergeRun(st, pts, tva, run, gather);
      run = [];
    };
    for (let i = lo; i <= hi; ) {
      pts.index = i;
      if (fmt.loadEntryRaw(pts) !== PT_ENTRY_OA) {
        flush();
        i++;
        continue;
      }
      const numLg2 = fmt.entryNumContigLg2(pts);
      const eFirst = i & ~((1 << numLg2) - 1);
      const eEnd = eFirst + (1 << numLg2);
      // Only whole entries inside the range take part.
      const eva = tva + (BigInt(eFirst) << BigInt(isz));
      const elast = tva + (BigInt(eEnd) << BigInt(isz)) - 1n;
      if (eva < st.first || elast > st.last) {
        flush();
        i = eEnd;
        continue;
      }
      fmt.entryOa(pts, st.out);
      const oa = u64ToBigInt(st.out.hi, st.out.lo);
      const dirty = cleanAttrs(st, pts);
      const same = run.length !== 0 && oa === nextOa && st.attrs.descriptorHi === st.runAttrsHi && st.attrs.descriptorLo === st.runAttrsLo;
      if (!same) {
        flush();
        st.runAttrsHi = st.attrs.descriptorHi;
        st.runAttrsLo = st.attrs.descriptorLo;
      }
      if (!(dirty && !fmt.hasMakeWriteDirty)) run.push({ index: eFirst, numLg2, oa, dirty });
      else flush();
      nextOa = oa + (1n << BigInt(isz + numLg2));
      i = eEnd;
    }
    flush();
  }

  /**
   * Collapse inside the table at `level` (VA tva, 2^itemsLg2 items), children
   * first. Returns 1 if the parent may and should replace the whole table by
   * the leaf in st.run*, 0 otherwise, or an errno.
   */
  function collapseTable(
    st: ResizeState,
    level: number,
    table: number,
    tva: bigint,
    itemsLg2: number,
    parentMayTake: boolean,
    gather: IommuIotlbGather,
  ): number {
    const t = st.t;
    const common = t.common;
    const isz = common.itemLg2sz[level]!;
    const items = 1 << itemsLg2;
    const lo = firstItem(st.first, tva, isz);
    const hi = lastItem(st.last, tva, isz, itemsLg2);
    const pts = st.priv[level]!.init(st.privRange, level, table);
    const itemSize = 1n << BigInt(isz);
    // A leaf of this level's item size can replace a child table.
    const leafHere = t.featOaTableXchg && ((st.sizes[level]! >> BigInt(isz)) & 1n) === 1n;

    for (let i = lo; i <= hi; i++) {
      pts.index = i;
      const type = fmt.loadEntryRaw(pts);
      if (type === PT_ENTRY_OA) st.found = true;
      if (type !== PT_ENTRY_TABLE) continue;
      const child = fmt.tablePa(pts);
      if (!ptTablePointerOk(common, child)) return ptTablePointerFault(common, child, level - 1);
      const cva = tva + (BigInt(i) << BigInt(isz));
      const mayTake = leafHere && cva >= st.first && cva + itemSize - 1n <= st.last;
      const r = collapseTable(st, level - 1, child, cva, common.numItemsLg2[level - 1]!, mayTake, gather);
      if (r < 0) return r;
      if (r !== 1) continue;
      // One store of a leaf over the table pointer, then the table goes.
      st.found = true;
      gatherBeforeChange(gather, t, hiOfBig(cva), loOfBig(cva), log2ToIntHi(isz), log2ToIntLo(isz));
      const stage = stageAt(st, level);
      stage.index = i;
      st.attrs.set(st.runAttrsHi, st.runAttrsLo);
      fmt.installLeafEntry(stage, hiOfBig(st.runOa), loOfBig(st.runOa), isz, st.attrs);
      if (st.runDirty) markDirty(fmt, stage);
      if (ptTestMutations.collapseFreesTableEarly) common.mem.free(child);
      else st.freeList.push(child);
      pts.index = i;
      storeLiveItem(common, pts, i, stage.itemHi(i), stage.itemLo(i));
      flushWritesItem(t, pts);
      gatherRangePages(gather, t, hiOfBig(cva), loOfBig(cva), log2ToIntHi(isz), log2ToIntLo(isz), st.freeList);
    }

    if (parentMayTake && wholeRun(st, pts, items, isz, isz + itemsLg2)) return 1;
    if (t.featOaSizeChange && st.sizes[level]! >> BigInt(isz + 1) !== 0n) mergeRuns(st, pts, tva, lo, hi, gather);
    return 0;
  }

  return function collapse(t, st, iovaHi, iovaLo, lenHi, lenLo, gather) {
    const common = t.common;
    if (!t.featOaSizeChange && !t.featOaTableXchg) return EOPNOTSUPP;
    resizeBegin(st, fmt);
    const ret = makeRange(common, st.range, iovaHi, iovaLo, lenHi, lenLo);
    if (ret) return ret;
    st.first = u64ToBigInt(iovaHi, iovaLo);
    st.last = u64ToBigInt(st.range.lastHi, st.range.lastLo);
    st.bounds.push(st.first, st.last + 1n);
    // The one allocation, before anything changes.
    const a = stageAlloc(st);
    if (a) return a;
    const r = collapseTable(st, common.topLevel, common.topTable, topTableVa(common, st.first), topItemsLg2(common), false, gather);
    if (r < 0) return r;
    return st.found ? 0 : ENOENT;
  };
}

export const collapseOp = definePtOp({
  name: 'collapse',
  newState: (t: PtIommu) => new ResizeState(t),
  build: (fmt, e) => buildCollapse(fmt, e),
  methods: {
    /**
     * Increase page size inside [iova, iova + len): merge leaves into the
     * largest leaves the domain holds (only whole new leaves inside the
     * range). EOPNOTSUPP if the table has neither hitless feature, ENOENT if
     * nothing is mapped in the range, EINVAL for a range not aligned to the
     * smallest page. Freed tables and changed spans go into `gather`.
     */
    collapseRange(iova: U64, len: U64, gather: IommuIotlbGather): void {
      const st = this.states.collapse;
      u64Split(iova, st.iova, 'iova');
      u64Split(len, st.len, 'len');
      this.opCheckLive();
      checkResizeRange(this, st, 'collapse_range');
      checkGather(gather);
      runTableOp(
        this,
        'collapse_range',
        () => this.walks.collapse(this, st, st.iova.hi, st.iova.lo, st.len.hi, st.len.lo, gather),
        () => stageFree(st),
      );
    },
  },
});
