/**
 * Per-table walk state, allocated once so operations allocate nothing: one
 * PtState per level for each kind of walk (the kernel keeps these on the
 * stack), the ranges they walk, and each operation's argument block.
 * Kinds that can be live at the same time (a map's clear_contig and the
 * collect walk under it) never share states.
 */
import { PT_MAX_LEVELS, PtRange, PtState, PtWriteAttrs, type PtCommon } from '@genpt/pt-core';
import type { IommuDirtyBitmap } from './dirty.js';
import { IommuIotlbGather } from './gather.js';
import type { PtIommu } from './pt-iommu.js';

function levels(range: PtRange): PtState[] {
  return Array.from({ length: PT_MAX_LEVELS }, () => new PtState(range));
}

/** struct pt_iommu_map_args */
export class MapArgs {
  /** The table being walked. */
  owner!: PtIommu;
  readonly states: PtState[];
  readonly gather = new IommuIotlbGather();
  readonly attrs = new PtWriteAttrs();
  oaHi = 0;
  oaLo = 0;
  leafPgsizeLg2 = 0;
  leafLevel = 0;
  /** Leaves left at the current size (< 2^53). */
  numLeaves = 0;

  constructor(range: PtRange) {
    this.states = levels(range);
  }
}

/** struct pt_unmap_args */
export class UnmapArgs {
  /** The table being walked. */
  owner!: PtIommu;
  readonly states: PtState[];
  freeList: number[] = [];
  unmappedHi = 0;
  unmappedLo = 0;

  constructor(range: PtRange) {
    this.states = levels(range);
  }
}

/** struct pt_iommu_collect_args */
export class CollectArgs {
  /** The table being walked. */
  owner!: PtIommu;
  readonly states: PtState[];
  freeList: number[] = [];
  /** Fail with EADDRINUSE if any leaf is found. */
  checkMapped = false;

  constructor(range: PtRange) {
    this.states = levels(range);
  }
}

/** struct pt_iommu_dirty_args */
export class DirtyArgs {
  /** The table being walked. */
  owner!: PtIommu;
  readonly states: PtState[];
  dirty: IommuDirtyBitmap | null = null;
  flags = 0;
  /** Report a dirty contiguous entry's whole length instead of the kernel's one-item-short length. */
  wholeContig = false;

  constructor(range: PtRange) {
    this.states = levels(range);
  }
}

export class WalkScratch {
  readonly mapRange: PtRange;
  readonly unmapRange: PtRange;
  readonly collectRange: PtRange;
  readonly contigRange: PtRange;
  readonly topRange: PtRange;
  readonly queryRange: PtRange;
  readonly map: MapArgs;
  readonly unmap: UnmapArgs;
  readonly collect: CollectArgs;
  readonly dirty: DirtyArgs;
  /** clear_contig's own state (its level is also live in the map walk). */
  readonly contigState: PtState;
  /** increase_top's state on a new top. */
  readonly topState: PtState;
  /** Single-entry walks (iova_to_phys, set_dirty), one per level. */
  readonly queryStates: PtState[];

  constructor(common: PtCommon) {
    this.mapRange = new PtRange(common);
    this.unmapRange = new PtRange(common);
    this.collectRange = new PtRange(common);
    this.contigRange = new PtRange(common);
    this.topRange = new PtRange(common);
    this.queryRange = new PtRange(common);
    this.map = new MapArgs(this.mapRange);
    this.unmap = new UnmapArgs(this.unmapRange);
    this.collect = new CollectArgs(this.collectRange);
    this.dirty = new DirtyArgs(this.queryRange);
    this.contigState = new PtState(this.contigRange);
    this.topState = new PtState(this.topRange);
    this.queryStates = levels(this.queryRange);
  }

  setOwner(t: PtIommu): void {
    this.map.owner = t;
    this.unmap.owner = t;
    this.collect.owner = t;
    this.dirty.owner = t;
  }
}
