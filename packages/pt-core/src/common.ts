/**
 * struct pt_common: one page table's shared state (top, widths, features),
 * plus what genpt derives once from the format so the shared iteration code
 * reads plain numbers instead of calling into the format.
 */
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
} from './features.js';
import type { AnyPtFormat } from './format.js';
import { PtRange } from './range.js';
import { PtState } from './state.js';
import type { TableMemory } from './table-memory.js';

/** Largest PT_MAX_TOP_LEVEL a format may have. */
export const PT_MAX_LEVELS = 6;

/** Host page size (PAGE_SHIFT), as on x86-64 where the traces were made. */
export const PAGE_SHIFT = 12;
export const PAGE_SIZE = 1 << PAGE_SHIFT;

export interface PtCommonOptions {
  /**
   * Behave like a CONFIG_DEBUG_GENERIC_PT kernel, as the kunit suites and the
   * golden traces were built: every feature bit is supported (bar the
   * incompatible ones) and force-enabled features need not be requested.
   */
  debug?: boolean;
}

export class PtCommon {
  readonly fmt: AnyPtFormat;
  readonly mem: TableMemory;
  readonly debug: boolean;

  /** top_of_table, split: PA of the top table and its level, always written together. */
  topTable = 0;
  topLevel = 0;
  /** Largest OA in bits; higher bits must be zero. */
  maxOaszLg2 = 0;
  /** Largest VA in bits (the growth limit with DYNAMIC_TOP). */
  maxVaszLg2 = 0;
  /** Bitmap of PT_FEAT_*. */
  features = 0;

  /** PT_SUPPORTED_FEATURES as this build sees it (debug widens it). */
  readonly supportedFeatures: number;
  readonly forceEnabledFeatures: number;
  /** pt_table_item_lg2sz per level. */
  readonly itemLg2sz: Uint8Array;
  /** pt_num_items_lg2 per level. */
  readonly numItemsLg2: Uint8Array;
  /** pt_full_va_prefix as a word: 0 or -1. */
  readonly vaPrefix: number;
  /** ffs(PT_TOP_PHYS_MASK): the smallest top allocation (lg2). */
  readonly topPhysMaskFfs: number;

  constructor(fmt: AnyPtFormat, mem: TableMemory, opts: PtCommonOptions = {}) {
    this.fmt = fmt;
    this.mem = mem;
    this.debug = opts.debug ?? false;
    if (fmt.maxTopLevel < 0 || fmt.maxTopLevel >= PT_MAX_LEVELS) {
      throw new RangeError(`format ${fmt.name}: maxTopLevel ${fmt.maxTopLevel} must be 0..${PT_MAX_LEVELS - 1}`);
    }
    const orig = fmt.supportedFeatures >>> 0;
    let supported = orig;
    if (this.debug) {
      supported = 0xffffffff;
      if (!(orig & bit(PT_FEAT_DMA_INCOHERENT))) supported &= ~bit(PT_FEAT_DMA_INCOHERENT);
      if (orig & bit(PT_FEAT_SIGN_EXTEND)) supported &= ~(bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_FULL_VA));
      else supported &= ~bit(PT_FEAT_SIGN_EXTEND);
    }
    this.supportedFeatures = supported >>> 0;
    this.forceEnabledFeatures = fmt.forceEnabledFeatures >>> 0;

    this.itemLg2sz = new Uint8Array(PT_MAX_LEVELS);
    this.numItemsLg2 = new Uint8Array(PT_MAX_LEVELS);
    const range = new PtRange(this);
    const pts = new PtState(range);
    for (let level = 0; level <= fmt.maxTopLevel; level++) {
      pts.level = level;
      this.itemLg2sz[level] = fmt.tableItemLg2sz(pts);
      this.numItemsLg2[level] = fmt.numItemsLg2(pts);
    }
    this.vaPrefix = fmt.fullVaPrefix(this) === 0 ? 0 : -1;
    const mask = fmt.topPhysMask;
    let ffs = 0;
    while (ffs < 64 && !((mask >> BigInt(ffs)) & 1n)) ffs++;
    this.topPhysMaskFfs = ffs;
  }

  /** pt_feature(): force-enabled, or supported and requested. */
  feature(f: number): boolean {
    const b = 1 << f;
    if (this.forceEnabledFeatures & b) return true;
    return (this.supportedFeatures & b & this.features) !== 0;
  }

  /** pt_top_set(): publish a new top table and level together. */
  topSet(topTable: number, topLevel: number): void {
    this.topTable = topTable;
    this.topLevel = topLevel;
  }

  /** pt_top_set_level(): level only, before the top is allocated. */
  topSetLevel(topLevel: number): void {
    this.topSet(0, topLevel);
  }
}
