/**
 * cut_mapping (the iommupt development line's draft, finished): after a cut
 * at c, no leaf crosses c, so unmapping [a, c - 1] and [c, b] of an earlier
 * map of [a, b] both work. The leaf holding c is rebuilt as the largest
 * pieces alignment allows on either side, with its attributes and its dirty
 * state; the change is hitless (see resize.ts) and its old span goes into
 * the gather, which the caller flushes.
 */
import { PT_ENTRY_OA, PT_ENTRY_TABLE, u64Split, u64ToBigInt, type AnyPtFormat, type PtEntryOps, type U64 } from '@genpt/pt-core';
import { checkGather } from '../args.js';
import type { IommuIotlbGather } from '../gather.js';
import { makeRange } from '../helpers.js';
import { definePtOp, runTableOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';
import { EFAULT, ENOENT, planLeaf, ResizeState, resizeApply, resizeBegin, resizeUndo, stageFree } from './resize.js';

export type CutWalk = (t: PtIommu, st: ResizeState, iovaHi: number, iovaLo: number, gather: IommuIotlbGather) => number;

function buildCut(fmt: AnyPtFormat, e: PtEntryOps): CutWalk {
  return function cut(t, st, iovaHi, iovaLo, gather) {
    resizeBegin(st, fmt);
    const ret = makeRange(t.common, st.range, iovaHi, iovaLo, 0, 1);
    if (ret) return ret;
    const pts = st.pts;
    const type = e.ptWalkToEntry(pts, st.range);
    if (type === PT_ENTRY_TABLE) return EFAULT;
    if (type !== PT_ENTRY_OA) return ENOENT;
    st.bounds.push(u64ToBigInt(iovaHi, iovaLo));
    const r = planLeaf(st, fmt, pts);
    if (r) {
      resizeUndo(st);
      return r;
    }
    return resizeApply(st, fmt, gather);
  };
}

export const cutOp = definePtOp({
  name: 'cut',
  newState: (t: PtIommu) => new ResizeState(t),
  build: (fmt, e) => buildCut(fmt, e),
  methods: {
    /**
     * cut_mapping(): make sure no leaf crosses `iova`. ENOENT if iova is not
     * mapped, EOPNOTSUPP if the leaf cannot change hitlessly on this table
     * (PtIommu.featOaSizeChange / featOaTableXchg), ENXIO if iova is inside
     * a smallest page, ENOMEM with the table unchanged. A cut at a leaf's
     * start changes nothing. The old leaf's span is added to `gather`.
     */
    cutMapping(iova: U64, gather: IommuIotlbGather): void {
      const st = this.states.cut;
      u64Split(iova, st.iova, 'iova');
      checkGather(gather);
      runTableOp(
        this,
        'cut_mapping',
        () => this.walks.cut(this, st, st.iova.hi, st.iova.lo, gather),
        () => stageFree(st),
      );
    },
  },
});
