/**
 * Template (see pt-core specialize.ts): the read-side walks of iommu_pt.h
 * for one format — iova_to_phys, read_and_clear_dirty and the test-only
 * set_dirty.
 */
import type * as Core from '@genpt/pt-core';
import type { IommuDirtyBitmap } from '../dirty.js';
import type { OpsLib } from '../ops-lib.js';
import type { PtIommu } from '../pt-iommu.js';
import type { DirtyArgs } from '../scratch.js';

export function queryTemplate(fmt: Core.AnyPtFormat, core: typeof Core, e: Core.PtEntryOps, lib: OpsLib) {
  const {
    PT_ENTRY_OA,
    PT_ENTRY_TABLE,
    IOMMU_DIRTY_NO_CLEAR,
    Errno,
    ptDescend,
    ptIterFirst,
    ptWalkRange,
    log2ToIntHi,
    log2ToIntLo,
    u64ShlHi,
    u64ShlLo,
  } = core;
  const { iommuIotlbGatherAddRange, makeRange } = lib;
  const ENOENT = -Errno.ENOENT;
  const EAGAIN = -Errno.EAGAIN;
  const EOPNOTSUPP = -Errno.EOPNOTSUPP;

  /**
   * iova_to_phys(): the OA iova translates to (any alignment) into out.
   * 0 and out = 0 when nothing is mapped; a negative errno when the IOVA is
   * outside the table (the kernel returns that errno cast to an address).
   */
  function iovaToPhys(t: PtIommu, iovaHi: number, iovaLo: number, out: Core.U64Pair): number {
    const s = t.scratch;
    const range = s.queryRange;
    out.set(0, 0);
    const ret = makeRange(t.common, range, iovaHi, iovaLo, 0, 1);
    if (ret) return ret;
    const pts = s.queryStates[0]!;
    if (e.ptWalkToEntry(pts, range) === PT_ENTRY_OA) e.ptEntryOaExact(pts, out);
    return 0;
  }

  /** record_dirty(): report one dirty entry and, unless NO_CLEAR, clean it and gather it. */
  function recordDirty(pts: Core.PtState, dirty: DirtyArgs, numContigLg2: number): void {
    const isz = pts.range.common.itemLg2sz[pts.level]!;
    let lenHi: number;
    let lenLo: number;
    if (numContigLg2 !== 0) {
      const index = pts.index;
      // Known kernel behaviour (Linux 7.0): the "end" is the entry's last
      // item, used as if exclusive, so a dirty contiguous entry the walk covers
      // whole is reported one item short. wholeContig reports all of it.
      let endIndex = (index | ((1 << numContigLg2) - 1)) >>> 0;
      if (dirty.wholeContig) endIndex++;
      if (pts.endIndex < endIndex) endIndex = pts.endIndex;
      const items = endIndex - index;
      lenHi = u64ShlHi(0, items, isz);
      lenLo = u64ShlLo(0, items, isz);
    } else {
      lenHi = log2ToIntHi(isz);
      lenLo = log2ToIntLo(isz);
    }
    const range = pts.range;
    const bitmap = dirty.dirty!;
    if (bitmap.bitmap !== null) bitmap.bitmap.set(range.vaHi, range.vaLo, lenHi, lenLo);
    if (!(dirty.flags & IOMMU_DIRTY_NO_CLEAR)) {
      // No cache write-back: incoherent walkers never do atomic dirty bits.
      fmt.entryMakeWriteClean(pts);
      iommuIotlbGatherAddRange(bitmap.gather, range.vaHi, range.vaLo, lenHi, lenLo);
    }
  }

  /** __read_and_clear_dirty() */
  function readAndClearDirtyWalk(range: Core.PtRange, dirty: DirtyArgs, level: number, table: number): number {
    const pts = dirty.states[level]!.init(range, level, table);
    for (ptIterFirst(pts); e.ptIterLoad(pts); e.ptNextEntry(pts)) {
      if (pts.type === PT_ENTRY_TABLE) {
        const ret = ptDescend(pts, dirty, readAndClearDirtyWalk);
        if (ret) return ret;
        continue;
      }
      if (pts.type === PT_ENTRY_OA && fmt.entryIsWriteDirty(pts)) recordDirty(pts, dirty, fmt.entryNumContigLg2(pts));
    }
    return 0;
  }

  /** read_and_clear_dirty(): 0 or a negative errno (EOPNOTSUPP without dirty bits). */
  function readAndClearDirty(
    t: PtIommu,
    iovaHi: number,
    iovaLo: number,
    sizeHi: number,
    sizeLo: number,
    flags: number,
    dirty: IommuDirtyBitmap,
  ): number {
    if (!fmt.hasWriteDirty) return EOPNOTSUPP;
    const args = t.scratch.dirty;
    const range = t.scratch.queryRange;
    const ret = makeRange(t.common, range, iovaHi, iovaLo, sizeHi, sizeLo);
    if (ret) return ret;
    args.dirty = dirty;
    args.flags = flags;
    args.wholeContig = t.dirtyWholeContig;
    try {
      return ptWalkRange(range, readAndClearDirtyWalk, args);
    } finally {
      args.dirty = null;
    }
  }

  /** set_dirty(): mark the leaf at iova dirty as hardware would (iommufd's test op). */
  function setDirty(t: PtIommu, iovaHi: number, iovaLo: number): number {
    if (!fmt.hasWriteDirty || !fmt.hasMakeWriteDirty) return EOPNOTSUPP;
    const s = t.scratch;
    const range = s.queryRange;
    const ret = makeRange(t.common, range, iovaHi, iovaLo, 0, 1);
    if (ret) return ret;
    const pts = s.queryStates[0]!;
    if (e.ptWalkToEntry(pts, range) !== PT_ENTRY_OA) return ENOENT;
    return fmt.entryMakeWriteDirty(pts) ? 0 : EAGAIN;
  }

  return { iovaToPhys, readAndClearDirty, setDirty, readAndClearDirtyWalk };
}
