/**
 * struct pt_common: one page table's shared state (top, widths, features),
 * plus what genpt derives once from the format so the shared iteration code
 * reads plain numbers instead of calling into the format.
 */
import {
  bit,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE_NO_GAPS,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
} from './features.js';
import { ptCheckedDefault } from './check.js';
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
  /** Run the kernel's PT_WARN_ON checks (check.ts). Default: GENPT_CHECKED=1. */
  checked?: boolean;
  /**
   * Refuse what Linux 7.0 accepts but should not (ERANGE before anything is
   * written): a range running across the canonical hole of a sign-extended
   * table, and paddr + len past the maximum OA. Off: the kernel's behaviour.
   */
  strict?: boolean;
}

/**
 * PT_SUPPORTED_FEATURES as a build sees it. A debug build supports every bit
 * except DMA_INCOHERENT (unless the format really does) and whichever side of
 * the SIGN_EXTEND / DYNAMIC_TOP+FULL_VA conflict the format does not use.
 */
export function ptSupportedFeatures(fmt: AnyPtFormat, debug: boolean): number {
  const orig = fmt.supportedFeatures >>> 0;
  if (!debug) return orig;
  let supported = 0xffffffff;
  if (!(orig & bit(PT_FEAT_DMA_INCOHERENT))) supported &= ~bit(PT_FEAT_DMA_INCOHERENT);
  if (orig & bit(PT_FEAT_SIGN_EXTEND)) supported &= ~(bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_FULL_VA));
  else supported &= ~bit(PT_FEAT_SIGN_EXTEND);
  return supported >>> 0;
}

export class PtCommon {
  readonly fmt: AnyPtFormat;
  readonly mem: TableMemory;
  /** The table memory arena and its base PA (cached from mem for the walkers). */
  readonly words: Int32Array;
  readonly entries64: Float64Array;
  readonly memBasePa: number;
  /** The arena's size and page map (TableMemory.pageMeta), for ptTablePointerOk. */
  readonly memBytes: number;
  readonly memPageMeta: Uint8Array;
  readonly debug: boolean;
  /** The checked build (check.ts): PT_WARN_ON checks run. */
  readonly checked: boolean;
  /** Refuse the kernel's two accepted-but-wrong map inputs (PtCommonOptions.strict). */
  readonly strict: boolean;
  /** The last errno-returning check that fired in a checked table (check.ts), for error messages. */
  lastWarning = '';
  /** Why the last walk stopped at a bad table pointer (table-pointer.ts), for the op's error. */
  lastFault = '';

  /** top_of_table, split: PA of the top table and its level, always written together. */
  topTable = 0;
  topLevel = 0;
  /** Largest OA in bits; higher bits must be zero. */
  maxOaszLg2 = 0;
  private vaszBits = 0;
  private featureBits = 0;
  /** Force-enabled | (supported & requested): what pt_feature() answers, as a bitmap. */
  private effective = 0;
  /** pt_feature() of the features the walkers test on every operation. */
  featDynamicTop = false;
  featSignExtend = false;
  featDmaIncoherent = false;
  featFlushRangeNoGaps = false;
  /** Span (lg2) of the current top: max_vasz_lg2 of pt_top_range(). */
  topSpanLg2 = 0;

  /** PT_SUPPORTED_FEATURES as this build sees it (debug widens it). */
  readonly supportedFeatures: number;
  readonly forceEnabledFeatures: number;
  /**
   * Size of a level 0 item and of a non-top table (lg2): the format's
   * PT_GRANULE_LG2SZ and PT_TABLEMEM_LG2SZ, unless its init chose others for
   * this table ({@link PtCommon.setGeometry}: ARMv8's and DART's granule
   * comes from the config).
   */
  granuleLg2sz: number;
  tablememLg2sz: number;
  /** Bits a format keeps for its own per-table choices made at init (ARMv8: the io-pgtable encoding). */
  fmtFlags = 0;
  /**
   * lg2 of the tables a fixed top concatenates (ARMv8 stage 2: up to 16, so
   * up to 4): the top holds that many bits more items than one table.
   */
  topConcatLg2 = 0;
  /** pt_table_item_lg2sz per level. */
  readonly itemLg2sz: Uint8Array;
  /** pt_num_items_lg2 per level. */
  readonly numItemsLg2: Uint8Array;
  /** pt_full_va_prefix as a word: 0 or -1 (it may depend on the features: ARMv8 TTBR1). */
  vaPrefix: number;
  /** ffs(PT_TOP_PHYS_MASK): the smallest top allocation (lg2). */
  readonly topPhysMaskFfs: number;
  /** lg2 of PT_ITEM_WORD_SIZE: 3 for 64-bit items, 2 for 32-bit ones (ARMv7 short descriptor). */
  readonly itemBytesLg2: number;
  /** int32 words per item, lg2 (itemBytesLg2 - 2): item i of a table starts at word base + (i << itemWordsLg2). */
  readonly itemWordsLg2: number;

  /** lg2 of the bytes of a (non-top) table at `level`: its items times the item size. */
  tableBytesLg2(level: number): number {
    return this.numItemsLg2[level]! + this.itemBytesLg2;
  }

  constructor(fmt: AnyPtFormat, mem: TableMemory, opts: PtCommonOptions = {}) {
    this.fmt = fmt;
    this.mem = mem;
    this.words = mem.words;
    this.entries64 = mem.entries64;
    this.memBasePa = mem.basePa;
    this.memBytes = mem.maxBytes;
    this.memPageMeta = mem.pageMeta;
    this.debug = opts.debug ?? false;
    this.checked = opts.checked ?? ptCheckedDefault();
    this.strict = opts.strict ?? false;
    if (fmt.maxTopLevel < 0 || fmt.maxTopLevel >= PT_MAX_LEVELS) {
      throw new RangeError(`format ${fmt.name}: maxTopLevel ${fmt.maxTopLevel} must be 0..${PT_MAX_LEVELS - 1}`);
    }
    if (fmt.itemWordSize !== 4 && fmt.itemWordSize !== 8) {
      throw new RangeError(`format ${fmt.name}: itemWordSize ${fmt.itemWordSize} must be 4 or 8`);
    }
    this.itemBytesLg2 = fmt.itemWordSize === 8 ? 3 : 2;
    this.itemWordsLg2 = this.itemBytesLg2 - 2;
    this.supportedFeatures = ptSupportedFeatures(fmt, this.debug);
    this.forceEnabledFeatures = fmt.forceEnabledFeatures >>> 0;

    this.itemLg2sz = new Uint8Array(PT_MAX_LEVELS);
    this.numItemsLg2 = new Uint8Array(PT_MAX_LEVELS);
    this.granuleLg2sz = fmt.granuleLg2sz;
    this.tablememLg2sz = fmt.tablememLg2sz;
    this.computeGeometry();
    this.vaPrefix = fmt.fullVaPrefix(this) === 0 ? 0 : -1;
    const mask = fmt.topPhysMask;
    let ffs = 0;
    while (ffs < 64 && !((mask >> BigInt(ffs)) & 1n)) ffs++;
    this.topPhysMaskFfs = ffs;
  }

  /** Ask the format for every level's item size and item count. */
  private computeGeometry(): void {
    const fmt = this.fmt;
    const range = new PtRange(this);
    const pts = new PtState(range);
    for (let level = 0; level <= fmt.maxTopLevel; level++) {
      pts.level = level;
      this.itemLg2sz[level] = fmt.tableItemLg2sz(pts);
      this.numItemsLg2[level] = fmt.numItemsLg2(pts);
    }
  }

  /**
   * For a format whose granule is chosen at init (from iommuFmtInit, before
   * the top is allocated): this table's level 0 item size and non-top table
   * size, every level's geometry recomputed from them.
   */
  setGeometry(granuleLg2sz: number, tablememLg2sz: number): void {
    this.granuleLg2sz = granuleLg2sz;
    this.tablememLg2sz = tablememLg2sz;
    this.computeGeometry();
    this.topSpanLg2 = this.spanOfTop(this.topLevel);
  }

  /** Bitmap of PT_FEAT_* requested for this table. */
  get features(): number {
    return this.featureBits;
  }

  set features(v: number) {
    this.featureBits = v >>> 0;
    this.effective = (this.forceEnabledFeatures | (this.supportedFeatures & this.featureBits)) >>> 0;
    this.featDynamicTop = this.feature(PT_FEAT_DYNAMIC_TOP);
    this.featSignExtend = this.feature(PT_FEAT_SIGN_EXTEND);
    this.featDmaIncoherent = this.feature(PT_FEAT_DMA_INCOHERENT);
    this.featFlushRangeNoGaps = this.feature(PT_FEAT_FLUSH_RANGE_NO_GAPS);
    this.vaPrefix = this.fmt.fullVaPrefix(this) === 0 ? 0 : -1;
    this.topSpanLg2 = this.spanOfTop(this.topLevel);
  }

  /** pt_feature(): force-enabled, or supported and requested. */
  feature(f: number): boolean {
    return (this.effective & (1 << f)) !== 0;
  }

  /**
   * VA bits a top table at topLevel spans: the table's maximum, or with
   * DYNAMIC_TOP below the highest level, what that level decodes.
   */
  spanOfTop(topLevel: number): number {
    let span = this.maxVaszLg2;
    if (this.featDynamicTop && topLevel !== this.fmt.maxTopLevel) {
      const s = this.numItemsLg2[topLevel]! + this.itemLg2sz[topLevel]!;
      if (s < span) span = s;
    }
    return span;
  }

  /** pt_top_set(): publish a new top table and level together. */
  topSet(topTable: number, topLevel: number): void {
    this.topTable = topTable;
    this.topLevel = topLevel;
    this.topSpanLg2 = this.spanOfTop(topLevel);
  }

  /** Largest VA in bits (the growth limit with DYNAMIC_TOP). */
  get maxVaszLg2(): number {
    return this.vaszBits;
  }

  set maxVaszLg2(v: number) {
    this.vaszBits = v;
    this.topSpanLg2 = this.spanOfTop(this.topLevel);
  }

  /** pt_top_set_level(): level only, before the top is allocated. */
  topSetLevel(topLevel: number): void {
    this.topSet(0, topLevel);
  }
}
