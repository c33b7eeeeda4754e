/**
 * increase_top() (map_range's check_map_range with DYNAMIC_TOP): add levels
 * above the top until the range fits, link the old top at index 0 of each
 * new one, and publish under the driver's lock after the driver repointed
 * the hardware (change_top). A change_top that throws leaves the old top in
 * place and frees the new tables before the error goes on.
 */
import {
  Errno,
  PtRange,
  PtState,
  ptCheckFailed,
  ptCheckRange,
  ptTopRangeOf,
  type AnyPtFormat,
  type PtEntryOps,
  type PtWriteAttrs,
} from '@genpt/pt-core';
import { ALLOC_DEFER_COHERENT_FLUSH, putPagesList, stopIncoherentList, tableAllocTop } from '../helpers.js';
import type { PtIommu } from '../pt-iommu.js';

const ERANGE = -Errno.ERANGE;
const EAGAIN = -Errno.EAGAIN;

/** increase_top's own range, state on a new top, and the new tops not yet published. */
export class TopState {
  readonly range: PtRange;
  readonly pts: PtState;
  readonly newTables: number[] = [];

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.pts = new PtState(this.range);
  }
}

export type IncreaseTop = (t: PtIommu, st: TopState, range: PtRange, leafLevel: number, attrs: PtWriteAttrs) => number;

export function increaseTopOf(fmt: AnyPtFormat, e: PtEntryOps): IncreaseTop {
  function errFree(t: PtIommu, list: number[], ret: number): number {
    if (t.common.featDmaIncoherent) stopIncoherentList(t, list);
    putPagesList(t.common.mem, list);
    return ret;
  }

  return function increaseTop(t, st, range, leafLevel, attrs) {
    const common = t.common;
    const list = st.newTables;
    list.length = 0;
    const oldTable = common.topTable;
    const oldLevel = common.topLevel;
    let newTable = oldTable;
    let newLevel = oldLevel;
    let ret: number;

    for (;;) {
      const topRange = ptTopRangeOf(st.range, newTable, newLevel);
      topRange.setVa(range.vaHi, range.vaLo, range.lastHi, range.lastLo);
      if (ptCheckRange(topRange) === 0 && leafLevel <= newLevel) break;

      const level = newLevel + 1;
      if (level > fmt.maxTopLevel || common.itemLg2sz[level]! >= common.maxVaszLg2) return errFree(t, list, ERANGE);
      const pa = tableAllocTop(t, level, ALLOC_DEFER_COHERENT_FLUSH);
      if (pa < 0) return errFree(t, list, pa);
      list.push(pa);

      // The new top always links to the old one at index 0.
      topRange.topLevel = level;
      topRange.setVa(0, 0, topRange.lastHi, topRange.lastLo);
      const pts = st.pts.init(topRange, level, pa);
      e.ptLoadSingleEntry(pts);
      if (common.checked && pts.index !== 0) ptCheckFailed('increase_top: pts.index != 0');
      fmt.installTable(pts, newTable, attrs);
      newTable = pa;
      newLevel = level;
    }

    // Make every new table visible at once, after all the links are written.
    if (common.featDmaIncoherent) {
      const dev = t.iommuDevice!;
      for (let i = 0; i < list.length; i++) {
        ret = dev.startIncoherent(list[i]!, 2 ** common.mem.blockLg2(list[i]!));
        if (ret) return errFree(t, list, ret);
      }
    }

    // Readers use the top without locks; the hardware must follow the new top
    // before it is published. If someone else grew it meanwhile, start over.
    const driver = t.driverOps;
    let lock: ReturnType<NonNullable<typeof driver.getTopLock>>;
    try {
      lock = driver.getTopLock!(t);
      lock.lock();
    } catch (err) {
      errFree(t, list, 0);
      throw err;
    }
    if (common.topTable !== oldTable || common.topLevel !== oldLevel || newTable === oldTable) {
      lock.unlock();
      return errFree(t, list, EAGAIN);
    }
    // No flush: the added levels only add non-present VA.
    try {
      driver.changeTop!(t, newTable, newLevel);
    } catch (err) {
      lock.unlock();
      errFree(t, list, 0);
      throw err;
    }
    common.topSet(newTable, newLevel);
    lock.unlock();
    list.length = 0;
    return 0;
  };
}
