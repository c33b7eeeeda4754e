/**
 * iova_to_phys: the OA an IOVA translates to, at any alignment. Public as
 * `iovaToPhys` (API values) and `iovaToPhysWords` (words, for emulators that
 * translate every access).
 */
import {
  Errno,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  ptCheckRange,
  PtRange,
  PtState,
  U64Pair,
  u64Value,
  type PtEntryOps,
  type U64,
  u64Split,
} from '@genpt/pt-core';
import { opError } from '../args.js';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';

export class IovaToPhysState {
  readonly range: PtRange;
  readonly pts: PtState;
  readonly iova = new U64Pair();
  readonly out = new U64Pair();

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.pts = new PtState(this.range);
  }
}

/**
 * The OA into out; 0 and out = 0 when nothing is mapped, a negative errno
 * when the IOVA is outside the table (the kernel returns that errno cast to
 * an address).
 */
export type IovaToPhysWalk = (t: PtIommu, st: IovaToPhysState, iovaHi: number, iovaLo: number, out: U64Pair) => number;

export const iovaToPhysOp = definePtOp({
  name: 'iovaToPhys',
  newState: (t: PtIommu) => new IovaToPhysState(t),
  build(_fmt, e: PtEntryOps): IovaToPhysWalk {
    return function iovaToPhys(t, st, iovaHi, iovaLo, out) {
      const range = st.range;
      const common = t.common;
      out.set(0, 0);
      // make_range(iova, 1): one byte, last = va.
      range.topTable = common.topTable;
      range.topLevel = common.topLevel;
      range.maxVaszLg2 = common.topSpanLg2;
      range.vaHi = iovaHi;
      range.vaLo = iovaLo;
      range.lastHi = iovaHi;
      range.lastLo = iovaLo;
      const ret = ptCheckRange(range);
      if (ret) return ret;
      const pts = st.pts;
      const type = e.ptWalkToEntry(pts, range);
      if (type === PT_ENTRY_OA) e.ptEntryOaExact(pts, out);
      // A table pointer outside the table memory (common.lastFault names it).
      return type === PT_ENTRY_TABLE ? -Errno.EFAULT : 0;
    };
  },
  methods: {
    /**
     * iova_to_phys(): the OA `iova` translates to, 0 if nothing is mapped
     * there. An IOVA outside the table throws the range errno (the kernel
     * returns it cast to an address), or is 0 in a strict table.
     */
    iovaToPhys(iova: U64): U64 {
      const st = this.states.iovaToPhys;
      u64Split(iova, st.iova, 'iova');
      this.opCheckLive();
      const out = st.out;
      const ret = this.walks.iovaToPhys(this, st, st.iova.hi, st.iova.lo, out);
      if (ret) {
        // A strict table answers "not mapped" for an IOVA it cannot hold.
        if (this.common.strict && ret === -Errno.ERANGE) return 0;
        throw opError(this.common, ret, 'iova_to_phys');
      }
      return u64Value(out.hi, out.lo);
    },

    /**
     * iova_to_phys() on words, for hot loops (emulators translating every
     * access): the OA goes to `out`; returns 0, or the negative errno of an
     * IOVA outside the table. Allocates nothing.
     */
    iovaToPhysWords(iovaHi: number, iovaLo: number, out: U64Pair): number {
      this.opCheckLive();
      return this.walks.iovaToPhys(this, this.states.iovaToPhys, iovaHi | 0, iovaLo | 0, out);
    },
  },
});
