/**
 * reclaim: free the tables an unmap left with no present item. The kernel
 * frees a table only when one unmap covers it whole, so unmapping a table's
 * pages one call at a time leaves it allocated. This walks the tables that
 * intersect [iova, iova + len), children first, and unlinks every non-top
 * table that holds nothing (which can empty its parent in turn), freeing it
 * through the gather so the walk caches are invalidated before reuse.
 * Translations do not change: nothing present is removed.
 */
import {
  Errno,
  PT_ENTRY_EMPTY,
  PT_ENTRY_TABLE,
  PtRange,
  type PtState,
  U64Pair,
  hiOfBig,
  log2ToIntHi,
  log2ToIntLo,
  loOfBig,
  ptTablePointerFault,
  ptTablePointerOk,
  u64Split,
  u64ToBigInt,
  type AnyPtFormat,
  type PtEntryOps,
  type U64,
} from '@genpt/pt-core';
import { checkGather, opError } from '../args.js';
import type { IommuIotlbGather } from '../gather.js';
import { flushWritesItem, gatherBeforeChange, gatherRangePages, makeRange } from '../helpers.js';
import { definePtOp, runTableOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { levelStates } from './states.js';
import { firstItem, lastItem, topItemsLg2, topTableVa } from './table-window.js';

export class ReclaimState {
  readonly t: PtIommu;
  readonly range: PtRange;
  readonly levels: PtState[];
  readonly freeList: number[] = [];
  readonly iova = new U64Pair();
  readonly len = new U64Pair();
  first = 0n;
  last = 0n;
  /** Tables freed by the last walk. */
  freed = 0;

  constructor(t: PtIommu) {
    this.t = t;
    this.range = new PtRange(t.common);
    this.levels = levelStates(this.range);
  }
}

/** Reclaim over [iova, iova + len); 0 or an errno (EFAULT at a bad table pointer). */
export type ReclaimWalk = (
  t: PtIommu,
  st: ReclaimState,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
  gather: IommuIotlbGather,
) => number;

function buildReclaim(fmt: AnyPtFormat, _e: PtEntryOps): ReclaimWalk {
  /** Reclaim under the table at `level` (VA tva); 1 if it is now empty, 0 if not, or an errno. */
  function reclaimTable(st: ReclaimState, level: number, table: number, tva: bigint, itemsLg2: number, gather: IommuIotlbGather): number {
    const t = st.t;
    const common = t.common;
    const isz = common.itemLg2sz[level]!;
    const items = 1 << itemsLg2;
    const lo = firstItem(st.first, tva, isz);
    const hi = lastItem(st.last, tva, isz, itemsLg2);
    const pts = st.levels[level]!.init(st.range, level, table);
    for (let i = lo; i <= hi; i++) {
      pts.index = i;
      if (fmt.loadEntryRaw(pts) !== PT_ENTRY_TABLE) continue;
      const child = fmt.tablePa(pts);
      if (!ptTablePointerOk(common, child)) return ptTablePointerFault(common, child, level - 1);
      const cva = tva + (BigInt(i) << BigInt(isz));
      const r = reclaimTable(st, level - 1, child, cva, common.numItemsLg2[level - 1]!, gather);
      if (r < 0) return r;
      if (r === 0) continue;
      // Unlink the empty table, then free it through the gather.
      gatherBeforeChange(gather, t, hiOfBig(cva), loOfBig(cva), log2ToIntHi(isz), log2ToIntLo(isz));
      pts.index = i;
      fmt.clearEntries(pts, 0);
      flushWritesItem(t, pts);
      st.freeList.push(child);
      st.freed++;
      gatherRangePages(gather, t, hiOfBig(cva), loOfBig(cva), log2ToIntHi(isz), log2ToIntLo(isz), st.freeList);
    }
    for (let i = 0; i < items; i++) {
      pts.index = i;
      if (fmt.loadEntryRaw(pts) !== PT_ENTRY_EMPTY) return 0;
    }
    return 1;
  }

  return function reclaim(t, st, iovaHi, iovaLo, lenHi, lenLo, gather) {
    const common = t.common;
    st.freed = 0;
    st.freeList.length = 0;
    const ret = makeRange(common, st.range, iovaHi, iovaLo, lenHi, lenLo);
    if (ret) return ret;
    st.first = u64ToBigInt(iovaHi, iovaLo);
    st.last = u64ToBigInt(st.range.lastHi, st.range.lastLo);
    // The top itself is never freed.
    const r = reclaimTable(st, common.topLevel, common.topTable, topTableVa(common, st.first), topItemsLg2(common), gather);
    return Math.min(r, 0);
  };
}

export const reclaimOp = definePtOp({
  name: 'reclaim',
  newState: (t: PtIommu) => new ReclaimState(t),
  build: (fmt, e) => buildReclaim(fmt, e),
  methods: {
    /**
     * Free every non-top table intersecting [iova, iova + len) that holds no
     * present item (recursively upwards), through `gather`. Returns the
     * number of tables freed. Out-of-range input is refused as by unmap.
     */
    reclaim(iova: U64, len: U64, gather: IommuIotlbGather): number {
      const st = this.states.reclaim;
      u64Split(iova, st.iova, 'iova');
      u64Split(len, st.len, 'len');
      checkGather(gather);
      if ((st.len.hi | st.len.lo) === 0) throw opError(this.common, -Errno.EINVAL, 'reclaim: len is 0');
      runTableOp(this, 'reclaim', () => this.walks.reclaim(this, st, st.iova.hi, st.iova.lo, st.len.hi, st.len.lo, gather));
      return st.freed;
    },
  },
});
