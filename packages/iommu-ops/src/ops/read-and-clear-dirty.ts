/**
 * read_and_clear_dirty: report the dirty leaves of a range to the caller's
 * bitmap and, unless IOMMU_DIRTY_NO_CLEAR, clean them and gather them. The
 * bitmap is caller code: it may call any other op on the table (they have
 * their own state), and this walk's state is its own.
 */
import {
  Errno,
  IOMMU_DIRTY_NO_CLEAR,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtRange,
  type PtState,
  U64Pair,
  log2ToIntHi,
  log2ToIntLo,
  ptCheckFailed,
  ptDescend,
  ptIterFirst,
  ptWalkRange,
  u64ShlHi,
  u64ShlLo,
  type AnyPtFormat,
  type PtEntryOps,
  type U64,
  u64Split,
} from '@genpt/pt-core';
import { checkDirtyArgs, opError } from '../args.js';
import type { IommuDirtyBitmap } from '../dirty.js';
import { iommuIotlbGatherAddRange } from '../gather.js';
import { makeRange } from '../helpers.js';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { levelStates } from './states.js';

/** struct pt_iommu_dirty_args, and the rest of the walk state. */
export class DirtyState {
  readonly range: PtRange;
  readonly levels: PtState[];
  dirty: IommuDirtyBitmap | null = null;
  flags = 0;
  /** Report a dirty contiguous entry's whole length instead of the kernel's one-item-short length. */
  wholeContig = false;
  readonly iova = new U64Pair();
  readonly size = new U64Pair();

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.levels = levelStates(this.range);
  }
}

export type DirtyWalk = (
  t: PtIommu,
  st: DirtyState,
  iovaHi: number,
  iovaLo: number,
  sizeHi: number,
  sizeLo: number,
  flags: number,
  dirty: IommuDirtyBitmap,
) => number;

function buildDirty(fmt: AnyPtFormat, e: PtEntryOps): DirtyWalk {
  /** record_dirty(): report one dirty entry and, unless NO_CLEAR, clean it and gather it. */
  function recordDirty(pts: PtState, st: DirtyState, numContigLg2: number): void {
    const isz = pts.range.common.itemLg2sz[pts.level]!;
    let lenHi: number;
    let lenLo: number;
    if (numContigLg2 !== 0) {
      const index = pts.index;
      // Known kernel behaviour (Linux 7.0): the "end" is the entry's last
      // item, used as if exclusive, so a dirty contiguous entry the walk covers
      // whole is reported one item short. wholeContig reports all of it.
      let endIndex = (index | ((1 << numContigLg2) - 1)) >>> 0;
      if (st.wholeContig) endIndex++;
      if (pts.endIndex < endIndex) endIndex = pts.endIndex;
      const items = endIndex - index;
      lenHi = u64ShlHi(0, items, isz);
      lenLo = u64ShlLo(0, items, isz);
    } else {
      lenHi = log2ToIntHi(isz);
      lenLo = log2ToIntLo(isz);
    }
    const range = pts.range;
    const bitmap = st.dirty!;
    if (bitmap.bitmap !== null) bitmap.bitmap.set(range.vaHi, range.vaLo, lenHi, lenLo);
    if (!(st.flags & IOMMU_DIRTY_NO_CLEAR)) {
      // No cache write-back: incoherent walkers never do atomic dirty bits.
      fmt.entryMakeWriteClean(pts);
      iommuIotlbGatherAddRange(bitmap.gather, range.vaHi, range.vaLo, lenHi, lenLo);
    }
  }

  /** __read_and_clear_dirty() */
  function dirtyLevel(range: PtRange, st: DirtyState, level: number, table: number): number {
    const pts = st.levels[level]!.init(range, level, table);
    for (ptIterFirst(pts); e.ptIterLoad(pts); e.ptNextEntry(pts)) {
      if (pts.type === PT_ENTRY_TABLE) {
        const ret = ptDescend(pts, st, dirtyLevel);
        if (ret) return ret;
        continue;
      }
      if (pts.type !== PT_ENTRY_OA) continue;
      const contig = fmt.entryNumContigLg2(pts);
      if (fmt.entryIsWriteDirty(pts)) recordDirty(pts, st, contig);
      else if (contig === 0) {
        // Clean single leaves report nothing: step over the run of them at
        // once (ptNextEntry moves on from the last one).
        const next = fmt.skipCleanLeaves(pts, pts.endIndex);
        if (next !== pts.index + 1) pts.index = next - 1;
      }
    }
    return 0;
  }

  return function readAndClearDirty(t, st, iovaHi, iovaLo, sizeHi, sizeLo, flags, dirty) {
    if (!fmt.hasWriteDirty) return -Errno.EOPNOTSUPP;
    const range = st.range;
    const ret = makeRange(t.common, range, iovaHi, iovaLo, sizeHi, sizeLo);
    if (ret) return ret;
    st.dirty = dirty;
    st.flags = flags;
    st.wholeContig = t.dirtyWholeContig;
    try {
      const r = ptWalkRange(range, dirtyLevel, st);
      // The kernel's walk cannot fail; here a corrupted table's pointer can (EFAULT), which is no invariant.
      if (r && r !== -Errno.EFAULT && t.common.checked) ptCheckFailed('read_and_clear_dirty: ret', `walk returned ${r}`);
      return r;
    } finally {
      st.dirty = null;
    }
  };
}

export const readAndClearDirtyOp = definePtOp({
  name: 'readAndClearDirty',
  newState: (t: PtIommu) => new DirtyState(t),
  build: (fmt, e) => buildDirty(fmt, e),
  methods: {
    /**
     * read_and_clear_dirty(): report the dirty leaves in [iova, iova + size)
     * to `dirty.bitmap` and, unless IOMMU_DIRTY_NO_CLEAR is in flags, clean
     * them and add them to `dirty.gather` (the caller flushes it).
     */
    readAndClearDirty(iova: U64, size: U64, flags: number, dirty: IommuDirtyBitmap): void {
      const st = this.states.readAndClearDirty;
      u64Split(iova, st.iova, 'iova');
      u64Split(size, st.size, 'size');
      checkDirtyArgs(flags, dirty);
      this.opBegin();
      let ret: number;
      try {
        ret = this.walks.readAndClearDirty(this, st, st.iova.hi, st.iova.lo, st.size.hi, st.size.lo, flags, dirty);
      } finally {
        this.opEnd();
      }
      if (ret) throw opError(this.common, ret, 'read_and_clear_dirty');
    },
  },
});
