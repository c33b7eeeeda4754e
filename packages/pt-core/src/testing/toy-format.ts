/**
 * A small x86-like format for tests of generic code (`@genpt/pt-core/testing`),
 * and the shortest complete example of the format contract: 4 KiB granule,
 * 512 items per table, up to 6 levels, leaves at levels 0..2 (bit 7 marks a
 * large leaf), present bit 0, write permission bit 1.
 */
import { ptCheckInstallLeafArgs } from '../fmt-defaults.js';
import {
  bit,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FULL_VA,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtFormatDefaults,
  ptTopMemsizeLg2,
  TableMemory,
  numberHi,
  u64ToNumber,
  type PtEntryType,
  type PtIommuCfg,
  type PtState,
  type PtWriteAttrs,
  type U64Pair,
} from '../index.js';

export interface ToyCfg extends PtIommuCfg {
  topLevel: number;
}

export class ToyFormat extends PtFormatDefaults<ToyCfg> {
  readonly name = 'toy';
  readonly maxVaAddressLg2 = 64;
  readonly maxOutputAddressLg2 = 52;
  readonly maxTopLevel = 5;
  readonly granuleLg2sz = 12;
  readonly tablememLg2sz = 12;
  readonly topPhysMask = 0xffffffffff000n;
  readonly supportedFeatures = bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_FULL_VA);

  loadEntryRaw(pts: PtState): PtEntryType {
    const w = pts.base + (pts.index << 1);
    const lo = pts.words[w]!;
    pts.entryLo = lo;
    pts.entryHi = pts.words[w + 1]!;
    if (!(lo & 1)) return PT_ENTRY_EMPTY;
    return pts.level === 0 || lo & 0x80 ? PT_ENTRY_OA : PT_ENTRY_TABLE;
  }

  tablePa(pts: PtState): number {
    return u64ToNumber(pts.entryHi & 0xfffff, pts.entryLo & ~0xfff);
  }

  override entryOa(pts: PtState, out: U64Pair): void {
    out.set(pts.entryHi & 0xfffff, pts.entryLo & ~0xfff);
  }

  canHaveLeaf(pts: PtState): boolean {
    return pts.level <= 2;
  }

  numItemsLg2(pts: PtState): number {
    // The top-most level of a 64-bit table only decodes 7 bits.
    return pts.level === 5 ? 7 : 9;
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    if (pts.range.common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    const lo = (oaLo & ~0xfff) | 1 | (pts.level ? 0x80 : 0) | attrs.descriptorLo;
    const hi = (oaHi & 0xfffff) | attrs.descriptorHi;
    const w = pts.base + (pts.index << 1);
    pts.words[w] = lo;
    pts.words[w + 1] = hi;
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    const w = pts.base + (pts.index << 1);
    if (pts.words[w] !== pts.entryLo || pts.words[w + 1] !== pts.entryHi) return false;
    const lo = (tablePa >>> 0) | 1;
    const hi = numberHi(tablePa);
    pts.words[w] = lo;
    pts.words[w + 1] = hi;
    pts.entryLo = lo;
    pts.entryHi = hi;
    return true;
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    attrs.set(0, pts.entryLo & 2);
  }

  iommuSetProt(_common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    attrs.set(0, prot & 2);
    return 0;
  }

  iommuFmtInit(common: PtCommon, cfg: ToyCfg): number {
    common.topSetLevel(cfg.topLevel);
    return 0;
  }
}

export const toy = new ToyFormat();

/** A toy table with an allocated top, set up the way iommu init would. */
export function makeToyTable(opts: { topLevel: number; vaszLg2: number; features?: number }): PtCommon {
  const common = new PtCommon(toy, new TableMemory());
  common.features = opts.features ?? 0;
  common.maxVaszLg2 = opts.vaszLg2;
  common.maxOaszLg2 = 52;
  common.topSetLevel(opts.topLevel);
  const top = common.mem.alloc(ptTopMemsizeLg2(common, opts.topLevel));
  common.topSet(top, opts.topLevel);
  return common;
}
