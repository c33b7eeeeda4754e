/**
 * The iteration primitives for code that takes any format (tests, dumps,
 * decoders): they dispatch through `pts.range.common.fmt`, which is fine for
 * tools and too slow for hot loops. The IOMMU algorithms use per-format
 * bindings of the same functions instead (iter/entry-ops.ts, slots.ts).
 */
import type { PtEntryFormat } from './iter/entry-ops.js';
import { ptEntryOps } from './iter/entry-ops.js';
import type { PtState } from './state.js';
import type { U64Pair } from './u64.js';

/** Forwards to whatever format the state's table uses. */
const dispatchFormat: PtEntryFormat = {
  loadEntryRaw: (pts: PtState) => pts.range.common.fmt.loadEntryRaw(pts),
  tablePa: (pts: PtState) => pts.range.common.fmt.tablePa(pts),
  entryNumContigLg2: (pts: PtState) => pts.range.common.fmt.entryNumContigLg2(pts),
  entryOa: (pts: PtState, out: U64Pair) => pts.range.common.fmt.entryOa(pts, out),
};

const shared = ptEntryOps(dispatchFormat);

export const { ptLoadEntry, ptIterLoad, ptNextEntry, ptLoadSingleEntry, ptWalkToEntry, ptEntryOaLg2sz, ptEntryOaExact } = shared;
export type { PtEntryOps } from './iter/entry-ops.js';
