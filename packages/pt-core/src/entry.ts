/**
 * The iteration primitives that call into the format (pt_common.h / pt_iter.h):
 * load an entry, step to the next one, read an entry's exact OA.
 *
 * They are written as a template (see specialize.ts) so a walker specialised
 * for one format gets its own copy. The exported functions are the shared
 * instance, which dispatches through `pts.range.common.fmt`: fine for tests
 * and tools, too slow for hot loops.
 */
import { PT_ENTRY_OA, PT_ENTRY_TABLE, type PtEntryType } from './entry-type.js';
import type { AnyPtFormat } from './format.js';
import type { PtRange } from './range.js';
import { ptAdvance, ptIndexToVa, ptRangeToIndex, ptVaIndex, type PtState } from './state.js';
import { maskHi, maskLo, type U64Pair } from './u64.js';

/** What {@link ptEntryOpsTemplate} needs from pt-core. */
export const entryOpsLib = { PT_ENTRY_OA, PT_ENTRY_TABLE, ptAdvance, ptIndexToVa, ptRangeToIndex, ptVaIndex, maskHi, maskLo };

export type PtEntryOps = ReturnType<typeof ptEntryOpsTemplate>;

/** Template: the format-calling iteration primitives for one format. */
export function ptEntryOpsTemplate(
  fmt: Pick<AnyPtFormat, 'loadEntryRaw' | 'tablePa' | 'entryNumContigLg2' | 'entryOa'>,
  lib: typeof entryOpsLib,
) {
  const { PT_ENTRY_OA, PT_ENTRY_TABLE, ptAdvance, ptIndexToVa, ptRangeToIndex, ptVaIndex, maskHi, maskLo } = lib;

  /** pt_load_entry(): load and classify; for a TABLE also find its lower table. */
  function ptLoadEntry(pts: PtState): void {
    const type = fmt.loadEntryRaw(pts);
    pts.type = type;
    if (type === PT_ENTRY_TABLE) pts.tableLower = fmt.tablePa(pts);
  }

  /** _pt_iter_load(): false at the end of the window, else load. */
  function ptIterLoad(pts: PtState): boolean {
    if (pts.index >= pts.endIndex) return false;
    ptLoadEntry(pts);
    return true;
  }

  /** pt_next_entry(): step over the whole entry (a contiguous one jumps to its end). */
  function ptNextEntry(pts: PtState): void {
    if (pts.type === PT_ENTRY_OA) ptAdvance(pts, fmt.entryNumContigLg2(pts));
    else pts.index++;
    ptIndexToVa(pts);
  }

  /** pt_load_single_entry(): index from the cursor, load, return the type. */
  function ptLoadSingleEntry(pts: PtState): PtEntryType {
    pts.index = ptRangeToIndex(pts);
    ptLoadEntry(pts);
    return pts.type;
  }

  /**
   * From the top of `range` down through TABLE entries to the entry covering
   * range.va: the kernel's loop of pt_load_single_entry() and descend for
   * a single address, in one state object. Returns the type of the entry it
   * stopped at (never TABLE); `pts` is left on it, with the entry loaded.
   */
  function ptWalkToEntry(pts: PtState, range: PtRange): PtEntryType {
    const common = range.common;
    let level = range.topLevel;
    pts.init(range, level, range.topTable);
    pts.index = ptRangeToIndex(pts);
    // Locals, not pts.setTable(): this loop is most of a single-page op.
    const memBase = common.memBasePa;
    const iszs = common.itemLg2sz;
    const nis = common.numItemsLg2;
    for (;;) {
      const type = fmt.loadEntryRaw(pts);
      pts.type = type;
      if (type !== PT_ENTRY_TABLE) return type;
      const table = fmt.tablePa(pts);
      level--;
      pts.level = level;
      pts.table = table;
      pts.base = (table - memBase) >>> 2;
      pts.index = ptVaIndex(range.vaHi, range.vaLo, iszs[level]!, nis[level]!);
    }
  }

  /** pt_entry_oa_lg2sz(): VA/OA size of the whole entry. */
  function ptEntryOaLg2sz(pts: PtState): number {
    return fmt.entryNumContigLg2(pts) + pts.range.common.itemLg2sz[pts.level]!;
  }

  /** pt_entry_oa_exact(): the entry's OA plus the cursor's offset inside the entry. */
  function ptEntryOaExact(pts: PtState, out: U64Pair): void {
    fmt.entryOa(pts, out);
    const b = ptEntryOaLg2sz(pts);
    const range = pts.range;
    out.hi |= range.vaHi & maskHi(b);
    out.lo |= range.vaLo & maskLo(b);
  }

  return { ptLoadEntry, ptIterLoad, ptNextEntry, ptLoadSingleEntry, ptWalkToEntry, ptEntryOaLg2sz, ptEntryOaExact };
}

/** Forwards to whatever format the state's table uses (for the shared instance). */
const dispatchFormat = {
  loadEntryRaw: (pts: PtState) => pts.range.common.fmt.loadEntryRaw(pts),
  tablePa: (pts: PtState) => pts.range.common.fmt.tablePa(pts),
  entryNumContigLg2: (pts: PtState) => pts.range.common.fmt.entryNumContigLg2(pts),
  entryOa: (pts: PtState, out: U64Pair) => pts.range.common.fmt.entryOa(pts, out),
};

const shared = ptEntryOpsTemplate(dispatchFormat, entryOpsLib);

export const { ptLoadEntry, ptIterLoad, ptNextEntry, ptLoadSingleEntry, ptEntryOaLg2sz, ptEntryOaExact } = shared;
