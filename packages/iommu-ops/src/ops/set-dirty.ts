/** set_dirty (iommufd's test op): mark the leaf at an IOVA dirty, as hardware writing through it would. */
import {
  Errno,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtRange,
  PtState,
  U64Pair,
  type AnyPtFormat,
  type PtEntryOps,
  type U64,
  u64Split,
} from '@genpt/pt-core';
import { opError } from '../args.js';
import { makeRange } from '../helpers.js';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';

export class SetDirtyState {
  readonly range: PtRange;
  readonly pts: PtState;
  readonly iova = new U64Pair();

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.pts = new PtState(this.range);
  }
}

export type SetDirtyWalk = (t: PtIommu, st: SetDirtyState, iovaHi: number, iovaLo: number) => number;

export const setDirtyOp = definePtOp({
  name: 'setDirty',
  newState: (t: PtIommu) => new SetDirtyState(t),
  build(fmt: AnyPtFormat, e: PtEntryOps): SetDirtyWalk {
    return function setDirty(t, st, iovaHi, iovaLo) {
      if (!fmt.hasWriteDirty || !fmt.hasMakeWriteDirty) return -Errno.EOPNOTSUPP;
      const range = st.range;
      const ret = makeRange(t.common, range, iovaHi, iovaLo, 0, 1);
      if (ret) return ret;
      const pts = st.pts;
      const type = e.ptWalkToEntry(pts, range);
      if (type === PT_ENTRY_TABLE) return -Errno.EFAULT;
      if (type !== PT_ENTRY_OA) return -Errno.ENOENT;
      return fmt.entryMakeWriteDirty(pts) ? 0 : -Errno.EAGAIN;
    };
  },
  methods: {
    /** set_dirty() (iommufd test op): mark the leaf at iova dirty, as hardware writing through it would. */
    setDirty(iova: U64): void {
      const st = this.states.setDirty;
      u64Split(iova, st.iova, 'iova');
      this.opCheckLive();
      const ret = this.walks.setDirty(this, st, st.iova.hi, st.iova.lo);
      if (ret) throw opError(this.common, ret, 'set_dirty');
    },
  },
});
