/**
 * The format contract: every function the kernel's pt_common.h declares for a
 * format, plus the optional ones pt_fmt_defaults.h fills in. A format is a
 * class implementing {@link PtFormat}; extending {@link PtFormatDefaults}
 * (fmt-defaults.ts) supplies the optional functions with the kernel's
 * defaults.
 *
 * Conventions: 64-bit entries and OAs travel as hi/lo int32 words (u64.ts);
 * functions that produce a u64 write it to a {@link U64Pair} `out`. Table
 * physical addresses are plain numbers (TableMemory keeps them below 2^53).
 * Functions marked "entry" work on the whole (contiguous) entry and may be
 * called with `pts.index` at any of its items.
 */
import type { PtWriteAttrs } from './attrs.js';
import type { PtCommon } from './common.js';
import type { PtEntryType } from './entry-type.js';
import type { PtRange } from './range.js';
import type { PtState } from './state.js';
import type { U64Pair } from './u64.js';

/** struct pt_iommu_cfg: what every format's config starts with. */
export interface PtIommuCfg {
  /** Bitmap of PT_FEAT_* the caller wants on (see features.ts). */
  features: number;
  /** Largest VA the hardware can translate, in bits. */
  hwMaxVaszLg2: number;
  /** Largest OA the hardware can emit, in bits. */
  hwMaxOaszLg2: number;
}

export interface PtFormat<Cfg extends PtIommuCfg = PtIommuCfg, HwInfo = unknown> {
  /** Format name as in the kernel (PT_FMT), e.g. "amdv1". */
  readonly name: string;

  /* ---- constants (PT_* in the format header) ---- */
  /** PT_ITEM_WORD_SIZE: bytes per item; genpt supports 8. */
  readonly itemWordSize: number;
  /** PT_MAX_VA_ADDRESS_LG2 */
  readonly maxVaAddressLg2: number;
  /** PT_MAX_OUTPUT_ADDRESS_LG2 */
  readonly maxOutputAddressLg2: number;
  /** PT_MAX_TOP_LEVEL (at most 5) */
  readonly maxTopLevel: number;
  /** PT_GRANULE_LG2SZ: size of a level 0 item */
  readonly granuleLg2sz: number;
  /** PT_TABLEMEM_LG2SZ: bytes of a (non-top) table */
  readonly tablememLg2sz: number;
  /** PT_TOP_PHYS_MASK: bits of the top table PA the hardware root pointer holds */
  readonly topPhysMask: bigint;
  /**
   * Where a TableMemory made for this format starts (ptTableMemoryFor), for
   * formats whose table pointers hold fewer address bits than the default
   * base (2^40) needs; undefined: the default.
   */
  readonly tableMemoryBasePa?: number;
  /**
   * Address bits a table pointer holds when fewer than the OA's (the ARMv7
   * short descriptor: 32, whatever MediaTek's OA extension reaches);
   * undefined: the OA width.
   */
  readonly tablePaLg2?: number;
  /** PT_SUPPORTED_FEATURES of the production build */
  readonly supportedFeatures: number;
  /** PT_FORCE_ENABLED_FEATURES */
  readonly forceEnabledFeatures: number;
  /** Names of the format's own features, from PT_FEAT_FMT_START up. */
  readonly featureNames: readonly string[];

  /* ---- which optional groups the format defines (the kernel's #ifdefs) ---- */
  /** pt_entry_is_write_dirty is defined: dirty tracking ops exist. */
  readonly hasWriteDirty: boolean;
  /** pt_entry_make_write_dirty is defined: the set_dirty test op exists. */
  readonly hasMakeWriteDirty: boolean;
  /** pt_sw_bit is defined: software bits (and DMA_INCOHERENT) are possible. */
  readonly hasSwBits: boolean;
  /**
   * PT_FEAT_OA_SIZE_CHANGE of the iommupt development line (Linux 7.0 has no
   * such bit): hardware keeps translating correctly while a present leaf
   * changes size in place, item by item (a contiguous entry rewritten into
   * smaller pieces or single items merged into one). Cut, split and collapse
   * need it to touch contiguous entries.
   */
  readonly oaSizeChange: boolean;
  /**
   * PT_FEAT_OA_TABLE_XCHG of the development line: a present single-item
   * leaf may be exchanged for a filled table with the same translation (and
   * back) in one store. Cut and split need it to break an item, collapse to
   * merge a table into a leaf.
   */
  readonly oaTableXchg: boolean;

  /* ---- required ---- */
  /** Read table[index] into pts.entryHi/Lo and classify it. */
  loadEntryRaw(pts: PtState): PtEntryType;
  /** PA of the lower table of a TABLE entry; round-trips installTable. */
  tablePa(pts: PtState): number;
  /** Entry: OA of the start of the entry (formats define this or itemOa). */
  entryOa(pts: PtState, out: U64Pair): void;
  /** OA of this item inside a contiguous entry (formats define this or entryOa). */
  itemOa(pts: PtState, out: U64Pair): void;
  /** This level may hold leaves. */
  canHaveLeaf(pts: PtState): boolean;
  /** Index bits of a non-top table at this level (never asked about the top). */
  numItemsLg2(pts: PtState): number;
  /**
   * Write a leaf of 2^oaszLg2 bytes at pts.index (aligned), every item of a
   * contiguous entry included; sets pts.entryHi/Lo to what was written.
   */
  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void;
  /** Compare-and-exchange a table pointer over the loaded pts entry; true on success. */
  installTable(pts: PtState, tablePa: number, attrs: PtWriteAttrs): boolean;
  /** Attrs that reinstall this leaf bit for bit (software bits excluded). */
  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void;
  /** IOMMU_* prot to descriptor bits; 0 or a negative errno. */
  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number;
  /** Choose the top level and clamp widths from the config; 0 or a negative errno. */
  iommuFmtInit(common: PtCommon, cfg: Cfg): number;
  /** What the driver programs into hardware (optional in the kernel). */
  iommuFmtHwInfo?(common: PtCommon, topRange: PtRange): HwInfo;

  /* ---- optional, defaults in PtFormatDefaults ---- */
  /** VA bytes one item at this level translates (lg2). Must depend on the level only. */
  tableItemLg2sz(pts: PtState): number;
  /** Level that holds leaves of this size. */
  pgszLg2ToLevel(common: PtCommon, pgsizeLg2: number): number;
  /** Entry: log2 of the number of items in this contiguous entry (0 = single). */
  entryNumContigLg2(pts: PtState): number;
  /** The one contiguous size a level supports (for the default possibleSizes). */
  contigCountLg2(pts: PtState): number;
  /** Bitmap of leaf sizes this level can install (0 if none). */
  possibleSizes(pts: PtState, out: U64Pair): void;
  /** Entry: hardware has written through it (any item of a contiguous entry). */
  entryIsWriteDirty(pts: PtState): boolean;
  /** Entry: clear the dirty state of every item, tolerating concurrent hardware. */
  entryMakeWriteClean(pts: PtState): void;
  /** Set dirty on this item by cmpxchg against pts.entry; false if it changed. */
  entryMakeWriteDirty(pts: PtState): boolean;
  /** The table supports dirty tracking. */
  dirtySupported(common: PtCommon): boolean;
  /** Largest OA the format can hold, in bits. */
  maxOaLg2(common: PtCommon): number;
  /** Level 0 can install a PAGE_SHIFT (4 KiB) leaf (enables the single-page fast path). */
  hasSystemPageSize(common: PtCommon): boolean;
  /** Bits above the VA span: 0, or -1 (all ones) for formats growing down from 2^64. */
  fullVaPrefix(common: PtCommon): number;
  /** Zero 2^numContigLg2 items at an aligned index. */
  clearEntries(pts: PtState, numContigLg2: number): void;
  /** Software bit n as a 64-bit mask in out (formats with hasSwBits). */
  swBit(bitnr: number, out: U64Pair): void;
  /** Highest software bit number usable for any level and entry. */
  maxSwBit(common: PtCommon): number;

  /*
   * ---- genpt's bulk extensions (not in the kernel's contract) ----
   * The per-item hot loops of map and unmap, which a format may implement
   * with tight loops over its own bits. PtFormatDefaults builds them from the
   * kernel functions above, and every override must agree with that default
   * (kunit-port's format properties check it).
   */
  /** Index of the first item in [pts.index, endIndex) that does not load as EMPTY, or endIndex. */
  findNonEmpty(pts: PtState, endIndex: number): number;
  /**
   * With a single-item leaf that is not write-dirty at pts.index: the index
   * of the first item after it, up to endIndex, that is not one too (a dirty
   * or contiguous leaf, a table pointer, an empty item), or endIndex.
   * read_and_clear_dirty's skip over clean leaves; pts.index is left alone.
   */
  skipCleanLeaves(pts: PtState, endIndex: number): number;
  /**
   * Install up to `count` single-item leaves of 2^oaszLg2 bytes (the level's
   * item size) at pts.index, pts.index + 1, ... with OAs from oa upwards, as
   * installLeafEntry would one by one, stopping before the first item that is
   * not EMPTY. Returns how many it installed; pts.index is left alone and
   * pts.entry holds the last leaf written (unspecified when none was).
   */
  installLeafRun(pts: PtState, count: number, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): number;
  /**
   * With a leaf loaded at pts.index: clear it and every leaf after it up to
   * endIndex, stopping at the first item that is not a leaf. Returns the items
   * cleared; pts.index is where it stopped, with that item loaded (type in
   * pts.type) when it is below endIndex.
   */
  clearLeafRun(pts: PtState, endIndex: number): number;
  /**
   * clearLeafRun that also reports OAs, for an unmap into an OA batch: with a
   * leaf loaded at pts.index, put its OA in `oa`, then clear it and every
   * leaf after it up to endIndex whose OA starts where the one before it
   * ends (sizes may differ), stopping at the first item that is not such a
   * leaf. Returns the items cleared (the run is that many items of the
   * level's size, from `oa`); pts.index and pts.type as clearLeafRun leaves
   * them.
   */
  clearLeafRunOa(pts: PtState, endIndex: number, oa: U64Pair): number;
}

/** A format with any config and hw_info type, for code that does not care. */
// biome-ignore lint/suspicious/noExplicitAny: any config and hw_info, for code that takes every format
export type AnyPtFormat = PtFormat<any, any>;

/** The config type of a format. */
export type FormatCfg<F> = F extends PtFormat<infer C, unknown> ? C : never;
/** The hw_info type of a format. */
export type FormatHwInfo<F> = F extends PtFormat<PtIommuCfg, infer H> ? H : never;
