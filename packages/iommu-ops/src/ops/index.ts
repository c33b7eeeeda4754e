/**
 * The registry of operations (the kernel's struct pt_iommu_ops): every op
 * is listed here once, in build order (an op may use the walks of those
 * before it). This directory is copied per format at build time (see
 * ../slots.ts); PtIommu installs the methods of the original's ops.
 */
import type { PtEntryOps } from '@genpt/pt-core';
import type { AnyPtFormat } from '@genpt/pt-core';
import { collapseOp } from './collapse.js';
import { collectOp } from './collect.js';
import { cutOp } from './cut.js';
import { iovaToPhysOp } from './iova-to-phys.js';
import { mapOp } from './map.js';
import { readAndClearDirtyOp } from './read-and-clear-dirty.js';
import { reclaimOp } from './reclaim.js';
import { setDirtyOp } from './set-dirty.js';
import { splitOp } from './split.js';
import { unmapOp } from './unmap.js';
import { validateOp } from './validate.js';
import { preserveOp } from './preserve.js';

export const PT_OPS = [
  collectOp,
  mapOp,
  unmapOp,
  iovaToPhysOp,
  readAndClearDirtyOp,
  setDirtyOp,
  validateOp,
  preserveOp,
  cutOp,
  splitOp,
  collapseOp,
  reclaimOp,
] as const;

type Ops = (typeof PT_OPS)[number];
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (x: infer I) => void ? I : never;

/** Every op's walk bound to one format, by op name. */
export type PtOpWalks = { readonly [O in Ops as O['name']]: ReturnType<O['build']> };
/** Every op's walk state for one table, by op name. */
export type PtOpStates = { readonly [O in Ops as O['name']]: ReturnType<O['newState']> };
/** The methods every op adds to PtIommu. */
export type PtOpMethods = UnionToIntersection<Ops['methods']>;

/** Bind every op to `fmt` (once per format, in the format's slot). */
export function buildWalks(fmt: AnyPtFormat, e: PtEntryOps): PtOpWalks {
  const walks: Record<string, unknown> = {};
  for (const op of PT_OPS) walks[op.name] = op.build(fmt, e, walks);
  return walks as PtOpWalks;
}

/** Make every op's state for table `t`. */
export function newStates(t: Parameters<Ops['newState']>[0]): PtOpStates {
  const states: Record<string, unknown> = {};
  for (const op of PT_OPS) states[op.name] = op.newState(t);
  return states as PtOpStates;
}
