/**
 * What an operation is: the kernel's pt_iommu_ops entry plus its walk state.
 *
 * An op is one file under ops/ that defines
 * - `newState`: the walk state it owns, made once per table (the kernel keeps
 *   it on the stack; here it is allocated once so an op allocates nothing),
 *   never shared with another op, so a callback that calls another op on the
 *   same table cannot clobber it;
 * - `build`: its walk bound to one format (run once per format, in that
 *   format's slot, so the walk's format calls are monomorphic);
 * - `methods`: its public face on {@link PtIommu}, which validates the
 *   arguments and calls the walk.
 * ops/index.ts registers every op in one list; nothing else names them.
 */
import type { AnyPtFormat, PtEntryOps } from '@genpt/pt-core';
import { opError } from './args.js';
import type { PtIommu } from './pt-iommu.js';

export interface PtOp<Name extends string, State, Walk, Methods extends object> {
  readonly name: Name;
  /** The op's walk state for table `t` (made during init, before the top exists). */
  newState(t: PtIommu): State;
  /**
   * The walk for `fmt`; `walks` holds every op registered before this one
   * (an op may call another's walk, e.g. map's table collection).
   */
  build(fmt: AnyPtFormat, e: PtEntryOps, walks: object): Walk;
  /** Methods installed on PtIommu.prototype (`this` is the table). */
  readonly methods: Methods & ThisType<PtIommu>;
}

/** Identity, for inference: `export const fooOp = definePtOp({ ... })`. */
export function definePtOp<Name extends string, State, Walk, Methods extends object>(
  op: PtOp<Name, State, Walk, Methods>,
): PtOp<Name, State, Walk, Methods> {
  return op;
}

/**
 * Run the walk of an op that changes the table: alone (EBUSY if a callback
 * re-enters), with `finish` run however it ends; a non-zero errno becomes a
 * PtError for `what`. (map and unmap inline this gate on their hot path.)
 */
export function runTableOp(t: PtIommu, what: string, walk: () => number, finish?: () => void): void {
  t.opBegin();
  let ret: number;
  try {
    ret = walk();
  } finally {
    finish?.();
    t.opEnd();
  }
  if (ret) throw opError(t.common, ret, what);
}
