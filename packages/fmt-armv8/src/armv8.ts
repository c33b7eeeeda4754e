/**
 * The VMSAv8-64 translation table (Arm ARM DDI 0487, chapter D8) as the
 * iommupt development line's drivers/iommu/generic_pt/fmt/armv8.h defines
 * it: one format whose granule (4, 16 or 64 KiB) the config chooses, stage
 * 1 (TTBR0 or TTBR1) and stage 2, the contiguous hint, DBM dirty tracking,
 * NS, LPA (52-bit OA, 64 KiB), LPA2 (52 bits, 4 and 16 KiB) and LVA.
 *
 * genpt levels count up from the leaves; ARM's count down from the top:
 * genpt level 0 is ARM level 3, level 4 is ARM level -1 (LPA2, 4 KiB).
 * Each item of a contiguous entry holds its own OA.
 */
import {
  bit,
  Errno,
  IOMMU_CACHE,
  IOMMU_MMIO,
  IOMMU_NOEXEC,
  IOMMU_PRIV,
  IOMMU_READ,
  IOMMU_WRITE,
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PT_FEAT_DMA_INCOHERENT,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PtFormatDefaults,
  bitHi,
  bitLo,
  numberHi,
  numberLo,
  u64AddHi,
  u64AddLo,
  ptCheckInstallLeafArgs,
  ptFindPresent,
  ptTableInstall64,
  ptTryCmpxchgEntry,
  type PtCommon,
  type PtEntryType,
  type PtRange,
  type PtState,
  type PtWriteAttrs,
  type U64Pair,
} from '@genpt/pt-core';
import {
  ARMV8PT_AP_RDONLY,
  ARMV8PT_AP_UNPRIV,
  ARMV8PT_FMT_AF,
  ARMV8PT_FMT_AP_SHIFT,
  ARMV8PT_FMT_ATTRINDX_SHIFT,
  ARMV8PT_FMT_CONTIG_HI,
  ARMV8PT_FMT_DBM_HI,
  ARMV8PT_FMT_NG,
  ARMV8PT_FMT_NS,
  ARMV8PT_FMT_NSTABLE_HI,
  ARMV8PT_FMT_PAGE,
  ARMV8PT_FMT_PXN_HI,
  ARMV8PT_FMT_S2AP_SHIFT,
  ARMV8PT_FMT_S2MEMATTR_SHIFT,
  ARMV8PT_FMT_SH_SHIFT,
  ARMV8PT_FMT_TABLE,
  ARMV8PT_FMT_UXN_HI,
  ARMV8PT_FMT_VALID,
  ARMV8PT_MAIR,
  ARMV8PT_MAIR_ATTR_IDX_CACHE,
  ARMV8PT_MAIR_ATTR_IDX_DEV,
  ARMV8PT_MAIR_ATTR_IDX_NC,
  ARMV8PT_MEMATTR_DEV,
  ARMV8PT_MEMATTR_FWB_WB,
  ARMV8PT_MEMATTR_NC,
  ARMV8PT_MEMATTR_OIWB,
  ARMV8PT_S2AP_READ,
  ARMV8PT_S2AP_WRITE,
  ARMV8PT_SH_IS,
  ARMV8PT_SH_OS,
  PT_FEAT_ARMV8_DBM,
  PT_FEAT_ARMV8_LPA,
  PT_FEAT_ARMV8_LPA2,
  PT_FEAT_ARMV8_LVA,
  PT_FEAT_ARMV8_NS,
  PT_FEAT_ARMV8_S2,
  PT_FEAT_ARMV8_S2FWB,
  PT_FEAT_ARMV8_TTBR1,
} from './bits.js';
import type { Armv8Cfg, Armv8HwInfo } from './types.js';

const TWO32 = 4294967296;
/** PtCommon.fmtFlags: the table writes the io-pgtable-arm encoding (Armv8Cfg.ioPgtableEncoding). */
export const ARMV8_FLAG_IO_PGTABLE = 1;
/** Stage 1 AP[2] (read-only) and stage 2 S2AP[1] (write) are both bit 7. */
const AP_BIT7 = 1 << 7;
/** The low-word bits attrFromEntry keeps: AttrIndx/MemAttr 5:2, AP/S2AP 7:6, AF, nG (SH 9:8 added without LPA2). */
const ATTR_LO = 0x3c | 0xc0 | ARMV8PT_FMT_AF | ARMV8PT_FMT_NG;
const ATTR_HI = ARMV8PT_FMT_DBM_HI | ARMV8PT_FMT_UXN_HI | ARMV8PT_FMT_PXN_HI;

/** The low word's address bits for a granule: 31:tg. */
function oaLoMask(tg: number): number {
  return ~((1 << tg) - 1);
}

/** OA width to the IPS/S2PS encoding, or -1. */
function oaszToPs(oasz: number): number {
  return [32, 36, 40, 42, 44, 48, 52].indexOf(oasz);
}

export class Armv8Format extends PtFormatDefaults<Armv8Cfg, Armv8HwInfo> {
  readonly name = 'armv8';
  readonly maxOutputAddressLg2 = 52;
  readonly maxVaAddressLg2 = 52;
  /** ARM level -1 (4 KiB with LPA2). */
  readonly maxTopLevel = 4;
  /** The smallest granule; each table sets its own at init. */
  readonly granuleLg2sz = 12;
  readonly tablememLg2sz = 12;
  /** TTB holds bits 51:5 (a top table aligned to its size, at least 32 bytes). */
  readonly topPhysMask = 0x000fffffffffffe0n;
  readonly supportedFeatures =
    bit(PT_FEAT_ARMV8_TTBR1) |
    bit(PT_FEAT_ARMV8_LPA) |
    bit(PT_FEAT_ARMV8_S2) |
    bit(PT_FEAT_ARMV8_DBM) |
    bit(PT_FEAT_ARMV8_S2FWB) |
    bit(PT_FEAT_ARMV8_NS) |
    bit(PT_FEAT_ARMV8_LPA2) |
    bit(PT_FEAT_ARMV8_LVA) |
    bit(PT_FEAT_FLUSH_RANGE) |
    bit(PT_FEAT_DMA_INCOHERENT) |
    bit(PT_FEAT_DYNAMIC_TOP);
  override readonly featureNames = [
    'ARMV8_TTBR1',
    'ARMV8_LPA',
    'ARMV8_S2',
    'ARMV8_DBM',
    'ARMV8_S2FWB',
    'ARMV8_NS',
    'ARMV8_LPA2',
    'ARMV8_LVA',
  ] as const;
  override readonly hasWriteDirty = true;
  override readonly hasMakeWriteDirty = true;
  override readonly hasSwBits = true;

  /** The first item with the valid bit set: what the per-item default finds, in one scan. */
  override findNonEmpty(pts: PtState, endIndex: number): number {
    return ptFindPresent(pts, endIndex, ARMV8PT_FMT_VALID);
  }

  loadEntryRaw(pts: PtState): PtEntryType {
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    const lo = words[w]!;
    pts.entryLo = lo;
    pts.entryHi = words[w + 1]!;
    if (!(lo & ARMV8PT_FMT_VALID)) return PT_ENTRY_EMPTY;
    // ARM level 3 holds only page descriptors, whose bit 1 is set too.
    if (pts.level !== 0 && lo & ARMV8PT_FMT_TABLE) return PT_ENTRY_TABLE;
    return PT_ENTRY_OA;
  }

  /** The address an entry holds (a table's, or this item's OA), as words. */
  private oaOf(pts: PtState, out: U64Pair): void {
    const common = pts.range.common;
    const tg = common.granuleLg2sz;
    const lo = pts.entryLo;
    const hi = pts.entryHi;
    if (common.feature(PT_FEAT_ARMV8_LPA2)) {
      // OA[49:tg] in place, OA[51:50] in bits 9:8.
      out.set((hi & 0x3ffff) | (((lo >>> 8) & 3) << 18), lo & oaLoMask(tg));
    } else if (tg === 16) {
      // OA[47:16] in place; OA[51:48] in bits 15:12 (LPA; zero otherwise).
      out.set((hi & 0xffff) | (((lo >>> 12) & 0xf) << 16), lo & oaLoMask(16));
    } else out.set(hi & 0xffff, lo & oaLoMask(tg));
  }

  tablePa(pts: PtState): number {
    const common = pts.range.common;
    const tg = common.granuleLg2sz;
    const lo = pts.entryLo;
    const hi = pts.entryHi;
    let h: number;
    if (common.feature(PT_FEAT_ARMV8_LPA2)) h = (hi & 0x3ffff) | (((lo >>> 8) & 3) << 18);
    else if (tg === 16) h = (hi & 0xffff) | (((lo >>> 12) & 0xf) << 16);
    else h = hi & 0xffff;
    return h * TWO32 + ((lo & oaLoMask(tg)) >>> 0);
  }

  override itemOa(pts: PtState, out: U64Pair): void {
    this.oaOf(pts, out);
  }

  /** The start of the entry: this item's OA with the contiguous entry's low bits cleared. */
  override entryOa(pts: PtState, out: U64Pair): void {
    this.oaOf(pts, out);
    const n = this.entryNumContigLg2(pts);
    if (n === 0) return;
    const sz = pts.range.common.itemLg2sz[pts.level]! + n;
    // Contiguous entries are at most 16 GiB: the mask reaches the high word only above 2^32.
    if (sz <= 31) out.lo &= ~((1 << sz) - 1);
    else {
      out.lo = 0;
      out.hi &= ~((1 << (sz - 32)) - 1);
    }
  }

  canHaveLeaf(pts: PtState): boolean {
    const common = pts.range.common;
    const tg = common.granuleLg2sz;
    const level = pts.level;
    if (common.feature(PT_FEAT_ARMV8_LPA2)) {
      // One more level gets blocks: 512 GiB (4 KiB), 64 GiB (16 KiB).
      if (tg === 12) return level <= 3;
      if (tg === 14) return level <= 2;
      return level <= 1;
    }
    if (tg === 12) return level <= 2;
    if (tg === 14) return level <= 1;
    return level <= (common.feature(PT_FEAT_ARMV8_LPA) ? 2 : 1);
  }

  override contigCountLg2(pts: PtState): number {
    const common = pts.range.common;
    if (common.fmtFlags & ARMV8_FLAG_IO_PGTABLE) return 0;
    const tg = common.granuleLg2sz;
    if (tg === 12) return 4; // 64 KiB, 32 MiB, 16 GiB
    if (tg === 14) return pts.level === 1 ? 5 : pts.level === 0 ? 7 : 0; // 1 GiB, 2 MiB
    if (tg === 16) return 5; // 2 MiB, 16 GiB
    return 0;
  }

  override entryNumContigLg2(pts: PtState): number {
    return pts.entryHi & ARMV8PT_FMT_CONTIG_HI ? this.contigCountLg2(pts) : 0;
  }

  override fullVaPrefix(common: PtCommon): number {
    return common.feature(PT_FEAT_ARMV8_TTBR1) ? -1 : 0;
  }

  numItemsLg2(pts: PtState): number {
    return pts.range.common.granuleLg2sz - 3;
  }

  /** The address field for OA (hi, lo) into pts.entryHi/Lo. */
  private encodeOa(pts: PtState, oaHi: number, oaLo: number): void {
    const common = pts.range.common;
    const tg = common.granuleLg2sz;
    const lo = oaLo & oaLoMask(tg);
    if (common.feature(PT_FEAT_ARMV8_LPA2)) {
      pts.entryLo = lo | (((oaHi >>> 18) & 3) << 8);
      pts.entryHi = oaHi & 0x3ffff;
    } else {
      pts.entryLo = common.feature(PT_FEAT_ARMV8_LPA) ? lo | (((oaHi >>> 16) & 0xf) << 12) : lo;
      pts.entryHi = oaHi & 0xffff;
    }
  }

  installLeafEntry(pts: PtState, oaHi: number, oaLo: number, oaszLg2: number, attrs: PtWriteAttrs): void {
    const common = pts.range.common;
    if (common.checked) ptCheckInstallLeafArgs(pts, oaHi, oaLo, oaszLg2);
    const isz = common.itemLg2sz[pts.level]!;
    this.encodeOa(pts, oaHi, oaLo);
    let lo = pts.entryLo | ARMV8PT_FMT_VALID | attrs.descriptorLo;
    let hi = pts.entryHi | attrs.descriptorHi;
    // ARM level 3 leaves are page descriptors (bit 1 set); others blocks.
    if (pts.level === 0) lo |= ARMV8PT_FMT_PAGE;
    const words = pts.words;
    const w = pts.base + (pts.index << 1);
    if (oaszLg2 === isz) {
      words[w] = lo;
      words[w + 1] = hi;
    } else {
      // Every item of a contiguous entry holds its own OA: the first item's
      // plus i items, each address field encoded over the same attributes
      // (masks and step worked out once: this loop is a contiguous map).
      hi |= ARMV8PT_FMT_CONTIG_HI;
      const n = 1 << (oaszLg2 - isz);
      const attrLo = lo & ~this.addrLoMask(common);
      const attrHi = hi & ~this.addrHiMask(common);
      const stepHi = bitHi(isz);
      const stepLo = bitLo(isz);
      if (oaszLg2 < 32 && !common.feature(PT_FEAT_ARMV8_LPA) && !common.feature(PT_FEAT_ARMV8_LPA2)) {
        // The address field is the OA's own bits in place (encodeOa without
        // LPA), and an OA aligned to the entry never carries out of the low word.
        const mLo = oaLoMask(common.granuleLg2sz);
        const hiField = attrHi | (oaHi & 0xffff);
        for (let i = 0; i < n; i++) {
          words[w + 2 * i] = attrLo | ((oaLo + i * stepLo) & mLo);
          words[w + 2 * i + 1] = hiField;
        }
      } else {
        let itemHi = oaHi;
        let itemLo = oaLo;
        for (let i = 0; i < n; i++) {
          this.encodeOa(pts, itemHi, itemLo);
          words[w + 2 * i] = attrLo | pts.entryLo;
          words[w + 2 * i + 1] = attrHi | pts.entryHi;
          const h = u64AddHi(itemHi, itemLo, stepHi, stepLo);
          itemLo = u64AddLo(itemHi, itemLo, stepHi, stepLo);
          itemHi = h;
        }
      }
    }
    pts.entryLo = lo;
    pts.entryHi = hi;
  }

  /** The low word's address bits (OA[31:tg], and OA[51:48] or OA[51:50] where they live there). */
  private addrLoMask(common: PtCommon): number {
    const m = oaLoMask(common.granuleLg2sz);
    if (common.feature(PT_FEAT_ARMV8_LPA2)) return m | (3 << 8);
    if (common.feature(PT_FEAT_ARMV8_LPA)) return m | (0xf << 12);
    return m;
  }

  private addrHiMask(common: PtCommon): number {
    return common.feature(PT_FEAT_ARMV8_LPA2) ? 0x3ffff : 0xffff;
  }

  installTable(pts: PtState, tablePa: number, _attrs: PtWriteAttrs): boolean {
    const common = pts.range.common;
    const entryLo = pts.entryLo;
    const entryHi = pts.entryHi;
    this.encodeOa(pts, numberHi(tablePa), numberLo(tablePa));
    const lo = pts.entryLo | ARMV8PT_FMT_VALID | ARMV8PT_FMT_TABLE;
    const hi = pts.entryHi | (common.feature(PT_FEAT_ARMV8_NS) ? ARMV8PT_FMT_NSTABLE_HI : 0);
    pts.entryLo = entryLo;
    pts.entryHi = entryHi;
    return ptTableInstall64(pts, hi, lo);
  }

  attrFromEntry(pts: PtState, attrs: PtWriteAttrs): void {
    const common = pts.range.common;
    // Bits 5:2 take AttrIndx and NS at stage 1, MemAttr at stage 2.
    const lo = ATTR_LO | (common.feature(PT_FEAT_ARMV8_LPA2) ? 0 : 3 << ARMV8PT_FMT_SH_SHIFT);
    attrs.set(pts.entryHi & ATTR_HI, pts.entryLo & lo);
  }

  /* ---- dirty: DBM, hardware clears AP[2] (stage 1) or sets S2AP[1] (stage 2) on a write ---- */

  override dirtySupported(common: PtCommon): boolean {
    return common.feature(PT_FEAT_ARMV8_DBM);
  }

  /** Any item of a contiguous entry written through: the hardware marks the item it used. */
  override entryIsWriteDirty(pts: PtState): boolean {
    const s2 = pts.range.common.feature(PT_FEAT_ARMV8_S2);
    const [first, n] = this.contigSpan(pts);
    const words = pts.words;
    for (let i = first; i < first + n; i++) {
      const lo = words[pts.base + 2 * i]!;
      const hi = words[pts.base + 2 * i + 1]!;
      if (!(hi & ARMV8PT_FMT_DBM_HI)) continue;
      if (s2 ? lo & AP_BIT7 : !(lo & AP_BIT7)) return true;
    }
    return false;
  }

  override entryMakeWriteClean(pts: PtState): void {
    const s2 = pts.range.common.feature(PT_FEAT_ARMV8_S2);
    const [first, n] = this.contigSpan(pts);
    const words = pts.words;
    for (let i = first; i < first + n; i++) {
      const w = pts.base + 2 * i;
      words[w] = s2 ? words[w]! & ~AP_BIT7 : words[w]! | AP_BIT7;
    }
  }

  override entryMakeWriteDirty(pts: PtState): boolean {
    if (!(pts.entryHi & ARMV8PT_FMT_DBM_HI)) return false;
    const s2 = pts.range.common.feature(PT_FEAT_ARMV8_S2);
    return ptTryCmpxchgEntry(pts, pts.entryHi, s2 ? pts.entryLo | AP_BIT7 : pts.entryLo & ~AP_BIT7);
  }

  /** [first item, items] of the (contiguous) entry at pts.index. */
  private contigSpan(pts: PtState): [number, number] {
    const n = this.entryNumContigLg2(pts);
    if (n === 0) return [pts.index, 1];
    return [pts.index & ~((1 << n) - 1), 1 << n];
  }

  /* ---- software bits: 58:56 everywhere, and 55 at stage 1 ---- */

  override maxSwBit(common: PtCommon): number {
    // Stage 2 bit 55 is NS in Realm state.
    return common.feature(PT_FEAT_ARMV8_S2) ? 2 : 3;
  }

  override swBit(bitnr: number, out: U64Pair): void {
    if (bitnr >= 0 && bitnr <= 2) out.set(1 << (56 - 32 + bitnr), 0);
    else if (bitnr === 3) out.set(1 << (55 - 32), 0);
    else throw new RangeError(`armv8 has no software bit ${bitnr}`);
  }

  iommuSetProt(common: PtCommon, attrs: PtWriteAttrs, prot: number): number {
    let lo = 0;
    let hi = 0;
    if (!common.feature(PT_FEAT_ARMV8_S2)) {
      let ap = 0;
      if (!(prot & IOMMU_WRITE) && prot & IOMMU_READ) ap |= ARMV8PT_AP_RDONLY;
      if (!(prot & IOMMU_PRIV)) ap |= ARMV8PT_AP_UNPRIV;
      lo = ARMV8PT_FMT_NG | (ap << ARMV8PT_FMT_AP_SHIFT);
      const idx =
        prot & IOMMU_MMIO ? ARMV8PT_MAIR_ATTR_IDX_DEV : prot & IOMMU_CACHE ? ARMV8PT_MAIR_ATTR_IDX_CACHE : ARMV8PT_MAIR_ATTR_IDX_NC;
      lo |= idx << ARMV8PT_FMT_ATTRINDX_SHIFT;
      if (common.feature(PT_FEAT_ARMV8_NS)) lo |= ARMV8PT_FMT_NS;
    } else {
      let s2ap = 0;
      if (prot & IOMMU_READ) s2ap |= ARMV8PT_S2AP_READ;
      if (prot & IOMMU_WRITE) s2ap |= ARMV8PT_S2AP_WRITE;
      lo = s2ap << ARMV8PT_FMT_S2AP_SHIFT;
      let memattr = ARMV8PT_MEMATTR_NC;
      if (prot & IOMMU_MMIO) memattr = ARMV8PT_MEMATTR_DEV;
      else if (prot & IOMMU_CACHE) memattr = common.feature(PT_FEAT_ARMV8_S2FWB) ? ARMV8PT_MEMATTR_FWB_WB : ARMV8PT_MEMATTR_OIWB;
      lo |= memattr << ARMV8PT_FMT_S2MEMATTR_SHIFT;
    }
    // A writable leaf starts dirty, so the hardware never has to dirty it.
    if (common.feature(PT_FEAT_ARMV8_DBM) && prot & IOMMU_WRITE) hi |= ARMV8PT_FMT_DBM_HI;
    // With LPA2 bits 9:8 are OA[51:50], not SH.
    if (!common.feature(PT_FEAT_ARMV8_LPA2)) lo |= (prot & IOMMU_CACHE ? ARMV8PT_SH_IS : ARMV8PT_SH_OS) << ARMV8PT_FMT_SH_SHIFT;
    if (prot & IOMMU_NOEXEC) {
      hi |= ARMV8PT_FMT_PXN_HI;
      // io-pgtable-arm sets UXN too (XN[1:0] = 0b11 at stage 2 with FEAT_XNX).
      if (common.fmtFlags & ARMV8_FLAG_IO_PGTABLE) hi |= ARMV8PT_FMT_UXN_HI;
    }
    lo |= ARMV8PT_FMT_AF;
    attrs.set(hi, lo);
    return 0;
  }

  /** The highest top level (genpt numbering) a granule allows. */
  private maxTopFor(tg: number, common: PtCommon): number {
    if (tg === 16) return 2;
    if (tg === 12 && common.feature(PT_FEAT_ARMV8_LPA2)) return 4;
    return 3;
  }

  /** Feature combinations a caller may not ask for. */
  private featuresValid(common: PtCommon, tg: number): boolean {
    const s2 = common.feature(PT_FEAT_ARMV8_S2);
    if (s2 && common.feature(PT_FEAT_ARMV8_TTBR1)) return false;
    if (common.feature(PT_FEAT_ARMV8_S2FWB) && !s2) return false;
    if (common.feature(PT_FEAT_ARMV8_LPA2) && tg === 16) return false;
    if (common.feature(PT_FEAT_ARMV8_LPA) && tg !== 16) return false;
    if (common.feature(PT_FEAT_ARMV8_LVA) && (tg !== 16 || s2)) return false;
    return true;
  }

  iommuFmtInit(common: PtCommon, cfg: Armv8Cfg): number {
    const tg = cfg.tgszLg2;
    if (tg !== 12 && tg !== 14 && tg !== 16) return -Errno.EOPNOTSUPP;
    const io = cfg.ioPgtableEncoding ?? 0;
    if (io !== 0 && io !== 1) return -Errno.EINVAL;
    common.fmtFlags = io ? ARMV8_FLAG_IO_PGTABLE : 0;
    common.setGeometry(tg, tg);
    if (!this.featuresValid(common, tg)) return -Errno.EOPNOTSUPP;
    let vasz = cfg.hwMaxVaszLg2;
    if (vasz <= tg) return -Errno.EINVAL;
    const wide = common.feature(PT_FEAT_ARMV8_LPA2) || common.feature(PT_FEAT_ARMV8_LPA);
    // The OA the format can hold, and the PS field must encode it.
    common.maxOaszLg2 = Math.min(wide ? 52 : 48, cfg.hwMaxOaszLg2);
    if (oaszToPs(common.maxOaszLg2) < 0) return -Errno.EOPNOTSUPP;
    // 52-bit VAs: LPA2 (4/16 KiB), LVA (64 KiB stage 1), LPA at stage 2 (64 KiB IPA).
    const wideVa =
      common.feature(PT_FEAT_ARMV8_LPA2) ||
      common.feature(PT_FEAT_ARMV8_LVA) ||
      (common.feature(PT_FEAT_ARMV8_S2) && common.feature(PT_FEAT_ARMV8_LPA));
    vasz = Math.min(wideVa ? 52 : 48, vasz);
    common.maxVaszLg2 = vasz;
    const bitsPerLevel = tg - 3;
    let levels = Math.ceil((vasz - tg) / bitsPerLevel);
    if (levels > this.maxTopFor(tg, common) + 1) return -Errno.EINVAL;
    // A 4 KiB stage 2 starting at ARM level 3 needs FEAT_TTST.
    if (common.feature(PT_FEAT_ARMV8_S2) && tg === 12 && levels === 1) return -Errno.EINVAL;
    // Stage 2 always folds a top of up to 16 tables into concatenated tables one level down.
    common.topConcatLg2 = 0;
    if (!common.feature(PT_FEAT_DYNAMIC_TOP) && common.feature(PT_FEAT_ARMV8_S2) && levels > 1) {
      const topszLg2 = vasz - (tg + bitsPerLevel * (levels - 1));
      if (topszLg2 <= 4) {
        levels--;
        // The new top: as many tables as the folded level had entries.
        common.topConcatLg2 = topszLg2;
      }
    }
    common.topSetLevel(levels - 1);
    return 0;
  }

  override iommuFmtHwInfo(common: PtCommon, topRange: PtRange): Armv8HwInfo {
    const tg = common.granuleLg2sz;
    const ttbr1 = common.feature(PT_FEAT_ARMV8_TTBR1);
    // TG1 encodes the granules differently from TG0 and S2TG.
    const tgEnc = ttbr1
      ? ({ 12: 2, 14: 1, 16: 3 } as Record<number, number>)[tg]!
      : ({ 12: 0, 14: 2, 16: 1 } as Record<number, number>)[tg]!;
    const incoherent = common.feature(PT_FEAT_DMA_INCOHERENT);
    const info: Armv8HwInfo = {
      ttb: topRange.topTable,
      tsz: 64 - common.maxVaszLg2,
      tg: tgEnc,
      ps: oaszToPs(common.maxOaszLg2),
      ds: common.feature(PT_FEAT_ARMV8_LPA2) ? 1 : 0,
      sh: incoherent ? ARMV8PT_SH_OS : ARMV8PT_SH_IS,
      irgn: incoherent ? 0 : 1,
      orgn: incoherent ? 0 : 1,
      endi: 0,
    };
    if (common.feature(PT_FEAT_ARMV8_S2)) {
      const top = topRange.topLevel;
      // 4 KiB: S2SL0 is the ARM starting level's encoding (level -1 is S2SL2); 16/64 KiB: the genpt level.
      if (tg === 12) info.s2 = top === 4 ? { sl0: 0, sl2: 1 } : { sl0: top - 1, sl2: 0 };
      else info.s2 = { sl0: top, sl2: 0 };
    } else {
      info.s1 = { tbix: 0, epd0: ttbr1 ? 1 : 0, epd1: ttbr1 ? 0 : 1, mair: ARMV8PT_MAIR };
    }
    return info;
  }
}

/** The ARMv8 format (any granule, either stage, chosen by the config). */
export const armv8 = new Armv8Format();
