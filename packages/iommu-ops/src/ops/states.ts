/** Walk-state building blocks the ops share (each op still owns its own instances). */
import { PT_MAX_LEVELS, PtState, type PtRange } from '@genpt/pt-core';

/** One PtState per level for a walk over `range` (the kernel's stack frames). */
export function levelStates(range: PtRange): PtState[] {
  return Array.from({ length: PT_MAX_LEVELS }, () => new PtState(range));
}
