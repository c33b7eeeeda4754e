/**
 * split_range ("decrease page size"), for dirty tracking at a finer grain:
 * every leaf overlapping [iova, iova + len) becomes leaves of at most
 * 2^maxPgszLg2 inside the range, and is cut at both ends of it (the parts
 * outside stay as large as alignment allows). Attributes and dirty state are
 * kept and every change is hitless (resize.ts); nothing changes unless every
 * leaf could be planned and built.
 */
import {
  argInt,
  ffs64,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  hiOfBig,
  loOfBig,
  u64Split,
  u64ToBigInt,
  type AnyPtFormat,
  type PtEntryOps,
  type U64,
} from '@genpt/pt-core';
import { checkGather } from '../args.js';
import type { IommuIotlbGather } from '../gather.js';
import { makeRange } from '../helpers.js';
import { definePtOp, runTableOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { checkResizeRange, EFAULT, ENOENT, planLeaf, ResizeState, resizeApply, resizeBegin, resizeUndo, stageFree } from './resize.js';

export type SplitWalk = (
  t: PtIommu,
  st: ResizeState,
  iovaHi: number,
  iovaLo: number,
  lenHi: number,
  lenLo: number,
  maxPgszLg2: number,
  gather: IommuIotlbGather,
) => number;

function buildSplit(fmt: AnyPtFormat, e: PtEntryOps): SplitWalk {
  function planAll(t: PtIommu, st: ResizeState): number {
    const common = t.common;
    const pts = st.pts;
    for (let va = st.first; va <= st.last; ) {
      const ret = makeRange(common, st.range, hiOfBig(va), loOfBig(va), 0, 1);
      if (ret) return ret;
      const type = e.ptWalkToEntry(pts, st.range);
      if (type === PT_ENTRY_TABLE) return EFAULT;
      const isz = common.itemLg2sz[pts.level]!;
      if (type !== PT_ENTRY_OA) {
        va = (va | ((1n << BigInt(isz)) - 1n)) + 1n;
        continue;
      }
      st.found = true;
      const span = BigInt(isz + fmt.entryNumContigLg2(pts));
      const r = planLeaf(st, fmt, pts);
      if (r) return r;
      va = (va | ((1n << span) - 1n)) + 1n;
    }
    return st.found ? 0 : ENOENT;
  }

  return function split(t, st, iovaHi, iovaLo, lenHi, lenLo, maxPgszLg2, gather) {
    resizeBegin(st, fmt);
    const ret = makeRange(t.common, st.range, iovaHi, iovaLo, lenHi, lenLo);
    if (ret) return ret;
    st.first = u64ToBigInt(iovaHi, iovaLo);
    st.last = u64ToBigInt(st.range.lastHi, st.range.lastLo);
    st.bounds.push(st.first, st.last + 1n);
    st.capFirst = st.first;
    st.capLast = st.last;
    st.capLg2 = maxPgszLg2;
    const r = planAll(t, st);
    if (r) {
      resizeUndo(st);
      return r;
    }
    return resizeApply(st, fmt, gather);
  };
}

export const splitOp = definePtOp({
  name: 'split',
  newState: (t: PtIommu) => new ResizeState(t),
  build: (fmt, e) => buildSplit(fmt, e),
  methods: {
    /**
     * Decrease page size: leaves in [iova, iova + len) become at most
     * 2^maxPgszLg2 bytes, leaves crossing its ends are cut there. Errors as
     * cutMapping (ENOENT: nothing mapped in the range); EINVAL for a range
     * not aligned to the smallest page or a maxPgszLg2 below it. Changed
     * spans go into `gather`.
     */
    splitRange(iova: U64, len: U64, maxPgszLg2: number, gather: IommuIotlbGather): void {
      const st = this.states.split;
      u64Split(iova, st.iova, 'iova');
      u64Split(len, st.len, 'len');
      this.opCheckLive();
      checkResizeRange(this, st, 'split_range');
      const d = this.domain;
      argInt(maxPgszLg2, ffs64(d.pgsizeBitmapHi, d.pgsizeBitmapLo), 63, 'split_range', 'maxPgszLg2');
      checkGather(gather);
      runTableOp(
        this,
        'split_range',
        () => this.walks.split(this, st, st.iova.hi, st.iova.lo, st.len.hi, st.len.lo, maxPgszLg2, gather),
        () => stageFree(st),
      );
    },
  },
});
