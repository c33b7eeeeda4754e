/**
 * __collect_tables(): gather every table below a walk onto a free list; with
 * checkMapped, refuse (EADDRINUSE) as soon as a leaf is met. Used by map (a
 * leaf replacing empty tables); deinit frees what validate's walk lists.
 */
import { Errno, PT_ENTRY_OA, PT_ENTRY_TABLE, ptDescend, ptIterFirst, PtRange, type PtEntryOps, type PtState } from '@genpt/pt-core';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { levelStates } from './states.js';

const EADDRINUSE = -Errno.EADDRINUSE;

export class CollectState {
  readonly range: PtRange;
  readonly levels: PtState[];
  freeList: number[] = [];
  /** Fail with EADDRINUSE if any leaf is found. */
  checkMapped = false;

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.levels = levelStates(this.range);
  }
}

export type CollectWalk = (range: PtRange, st: CollectState, level: number, table: number) => number;

export const collectOp = definePtOp({
  name: 'collect',
  // No state of its own: map, its one user, owns the CollectState it walks with.
  newState: (_t: PtIommu) => null,
  build(_fmt, e: PtEntryOps): CollectWalk {
    function collectTables(range: PtRange, st: CollectState, level: number, table: number): number {
      // Level 0 holds no tables; only a mapped-check needs to look at it.
      if (!st.checkMapped && level === 0) return 0;
      const pts = st.levels[level]!.init(range, level, table);
      for (ptIterFirst(pts); e.ptIterLoad(pts); e.ptNextEntry(pts)) {
        if (pts.type === PT_ENTRY_TABLE) {
          st.freeList.push(pts.tableLower);
          const ret = ptDescend(pts, st, collectTables);
          if (ret) return ret;
          continue;
        }
        if (pts.type === PT_ENTRY_OA && st.checkMapped) return EADDRINUSE;
      }
      return 0;
    }
    return collectTables;
  },
  methods: {},
});
