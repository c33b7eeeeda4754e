/**
 * Template (see pt-core specialize.ts): __collect_tables() for one format.
 * Gathers every table below a walk onto a free list; with checkMapped it
 * refuses (EADDRINUSE) as soon as it meets a leaf.
 */
import type * as Core from '@genpt/pt-core';
import type { CollectArgs } from '../scratch.js';

export function collectTemplate(_fmt: Core.AnyPtFormat, core: typeof Core, e: Core.PtEntryOps) {
  const { PT_ENTRY_OA, PT_ENTRY_TABLE, Errno, ptIterFirst, ptDescend } = core;
  const EADDRINUSE = -Errno.EADDRINUSE;

  function collectTables(range: Core.PtRange, collect: CollectArgs, level: number, table: number): number {
    // Level 0 holds no tables; only a mapped-check needs to look at it.
    if (!collect.checkMapped && level === 0) return 0;
    const pts = collect.states[level]!.init(range, level, table);
    for (ptIterFirst(pts); e.ptIterLoad(pts); e.ptNextEntry(pts)) {
      if (pts.type === PT_ENTRY_TABLE) {
        collect.freeList.push(pts.tableLower);
        const ret = ptDescend(pts, collect, collectTables);
        if (ret) return ret;
        continue;
      }
      if (pts.type === PT_ENTRY_OA && collect.checkMapped) return EADDRINUSE;
    }
    return 0;
  }

  return { collectTables };
}
