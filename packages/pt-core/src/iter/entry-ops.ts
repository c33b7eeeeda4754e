/**
 * The iteration primitives that call into the format (pt_common.h /
 * pt_iter.h): load an entry, step to the next one, descend to the entry of
 * one address, read an entry's exact OA.
 *
 * {@link ptEntryOps} binds them to one format. This directory is copied per
 * format at build time (see slots.ts), so the functions a format gets see
 * only that format at their call sites and V8 inlines its accessors, as the
 * kernel's per-format compilation does.
 */
import { PT_ENTRY_OA, PT_ENTRY_TABLE, type PtEntryType } from '../entry-type.js';
import type { AnyPtFormat } from '../format.js';
import type { PtRange } from '../range.js';
import { ptTablePointerFault, ptTablePointerOk } from '../table-pointer.js';
import { ptAdvance, ptIndexToVa, ptRangeToIndex, ptVaIndex, type PtState } from '../state.js';
import { maskHi, maskLo, type U64Pair } from '../u64.js';

/** The format functions the iteration primitives call. */
export type PtEntryFormat = Pick<AnyPtFormat, 'loadEntryRaw' | 'tablePa' | 'entryNumContigLg2' | 'entryOa'>;

export interface PtEntryOps {
  /** pt_load_entry(): load and classify; for a TABLE also find its lower table. */
  ptLoadEntry(pts: PtState): void;
  /** _pt_iter_load(): false at the end of the window, else load. */
  ptIterLoad(pts: PtState): boolean;
  /** pt_next_entry(): step over the whole entry (a contiguous one jumps to its end). */
  ptNextEntry(pts: PtState): void;
  /** pt_load_single_entry(): index from the cursor, load, return the type. */
  ptLoadSingleEntry(pts: PtState): PtEntryType;
  /**
   * From the top of `range` down through TABLE entries to the entry covering
   * range.va, in one state object. Returns the type of the entry it stopped
   * at (never TABLE); `pts` is left on it, with the entry loaded.
   */
  /**
   * Descend to the entry for range.va; returns its type. TABLE only when the
   * table pointer there leads outside the table memory (ptTablePointerOk):
   * the walk stops on that entry, with common.lastFault saying why.
   */
  ptWalkToEntry(pts: PtState, range: PtRange): PtEntryType;
  /** pt_entry_oa_lg2sz(): VA/OA size of the whole entry. */
  ptEntryOaLg2sz(pts: PtState): number;
  /** pt_entry_oa_exact(): the entry's OA plus the cursor's offset inside the entry. */
  ptEntryOaExact(pts: PtState, out: U64Pair): void;
}

/** The iteration primitives bound to `fmt`. */
export function ptEntryOps(fmt: PtEntryFormat): PtEntryOps {
  function ptLoadEntry(pts: PtState): void {
    const type = fmt.loadEntryRaw(pts);
    pts.type = type;
    if (type === PT_ENTRY_TABLE) pts.tableLower = fmt.tablePa(pts);
  }

  function ptIterLoad(pts: PtState): boolean {
    if (pts.index >= pts.endIndex) return false;
    ptLoadEntry(pts);
    return true;
  }

  function ptNextEntry(pts: PtState): void {
    if (pts.type === PT_ENTRY_OA) ptAdvance(pts, fmt.entryNumContigLg2(pts));
    else pts.index++;
    ptIndexToVa(pts);
  }

  function ptLoadSingleEntry(pts: PtState): PtEntryType {
    pts.index = ptRangeToIndex(pts);
    ptLoadEntry(pts);
    return pts.type;
  }

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
      if (!ptTablePointerOk(common, table)) {
        // Stop on the entry: TABLE with the pointer it could not follow.
        pts.tableLower = table;
        ptTablePointerFault(common, table, level - 1);
        return type;
      }
      level--;
      pts.level = level;
      pts.table = table;
      pts.base = (table - memBase) >>> 2;
      pts.index = ptVaIndex(range.vaHi, range.vaLo, iszs[level]!, nis[level]!);
    }
  }

  function ptEntryOaLg2sz(pts: PtState): number {
    return fmt.entryNumContigLg2(pts) + pts.range.common.itemLg2sz[pts.level]!;
  }

  function ptEntryOaExact(pts: PtState, out: U64Pair): void {
    fmt.entryOa(pts, out);
    const b = ptEntryOaLg2sz(pts);
    const range = pts.range;
    out.hi |= range.vaHi & maskHi(b);
    out.lo |= range.vaLo & maskLo(b);
  }

  return { ptLoadEntry, ptIterLoad, ptNextEntry, ptLoadSingleEntry, ptWalkToEntry, ptEntryOaLg2sz, ptEntryOaExact };
}
