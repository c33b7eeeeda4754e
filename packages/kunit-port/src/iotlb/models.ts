/**
 * What each IOMMU really invalidates for one gather (a VA range and the
 * tables freed in it). Each model turns the gather into the command its
 * Linux driver issues and applies what that command reaches in the emulated
 * IOTLB. A model may reach more than the gather (power-of-two rounding, page
 * granules, global flushes) but never less than its hardware does.
 */
import type { EmulatedIotlb } from './iotlb.js';

/** The gather as the driver's iotlb_sync sees it. */
export interface IotlbGatherView {
  /** Inclusive range. */
  start: bigint;
  end: bigint;
  /** Table pages on the gather's free list. */
  freedTables: number;
  /**
   * The gather comes from read_and_clear_dirty cleaning dirty leaves. Linux
   * 7.0's record_dirty() gathers each leaf from the iterator's VA, which for
   * the first leaf is the requested IOVA, not the leaf's start: a range that
   * enters a large leaf part-way overlaps it without holding it whole.
   */
  dirtyClean?: boolean;
}

export interface IotlbModelContext {
  /** lg2 of the domain's smallest page size. */
  smallestPgszLg2: number;
}

export interface InvalidationModel {
  readonly name: 'GENERIC' | 'AMD' | 'VTD' | 'RISCV' | 'SMMUV3' | 'DART' | 'MTK';
  /** Where the rule comes from. */
  readonly source: string;
  invalidate(iotlb: EmulatedIotlb, g: IotlbGatherView, ctx: IotlbModelContext): void;
}

const M64 = (1n << 64n) - 1n;

/** fls64(): index of the highest set bit plus one (0 for 0). */
function fls(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

/** The smallest power-of-two aligned block [address, address + 2^lg2 - 1] covering [start, end], at least 4 KiB. */
function alignedBlock(start: bigint, end: bigint): { address: bigint; lg2: number } {
  const lg2 = Math.max(12, fls(start ^ end));
  return { address: lg2 >= 64 ? 0n : start & ~((1n << BigInt(lg2)) - 1n) & M64, lg2 };
}

const upTo = (lg2: number) => (x: number) => x <= lg2;

/**
 * Exactly the gather: every leaf and walk entry wholly inside [start, end],
 * nothing partly outside it. The least any range-based hardware does (the
 * kernel's own emulated-IOTLB test treats a range invalidation the same way),
 * so a gather shorter than what changed leaves that entry cached.
 *
 * One exception, for the kernel's dirty gathers (see
 * IotlbGatherView.dirtyClean): a dirty clean also reaches the leaves the
 * range overlaps, as every hardware model here does (each removes the
 * entries its range overlaps). The IOTLB suite pins that kernel behaviour
 * in a test of its own, where the strict rule leaves the leaf stale.
 */
export const GENERIC_MODEL: InvalidationModel = {
  name: 'GENERIC',
  source: 'iommu_iotlb_gather semantics (include/linux/iommu.h): [start, end] is what changed',
  invalidate(iotlb, g) {
    iotlb.erase({ start: g.start, last: g.end, overlapping: false, leaves: true, walks: true });
    if (g.dirtyClean === true) iotlb.erase({ start: g.start, last: g.end, overlapping: true, leaves: true, walks: false });
  },
};

/** GENERIC without the dirty-clean exception: what the strict gather contract alone guarantees. */
export const GENERIC_STRICT_MODEL: InvalidationModel = {
  name: 'GENERIC',
  source: GENERIC_MODEL.source,
  invalidate(iotlb, g) {
    iotlb.erase({ start: g.start, last: g.end, overlapping: false, leaves: true, walks: true });
  },
};

/**
 * INVALIDATE_IOMMU_PAGES: the smallest naturally aligned power-of-two block
 * around the gather (S=1 encodes its size in the address), everything when
 * start and end differ above bit 51 (build_inv_address() in
 * drivers/iommu/amd/iommu.c).
 * The command reaches no IOTLB entry larger than its own size (AMD IOMMU
 * spec 2.4.3, software note: each invalidation must be at least as large as
 * the largest page it invalidates). PDE=1 also invalidates the page directory
 * cache: Linux 7.0's build_inv_iommu_pages() always sets it; `pde:
 * 'when-freed'` models a driver that sets it only when tables were freed.
 */
export function amdModel(opts: { pde?: 'always' | 'when-freed' } = {}): InvalidationModel {
  const pdeAlways = (opts.pde ?? 'always') === 'always';
  return {
    name: 'AMD',
    source: 'AMD IOMMU spec 2.4.3 INVALIDATE_IOMMU_PAGES; drivers/iommu/amd/iommu.c build_inv_address()',
    invalidate(iotlb, g) {
      const { address, lg2 } = alignedBlock(g.start, g.end);
      // build_inv_address() sends the all-pages address only when start and end differ above bit 51.
      if (lg2 > 52) {
        iotlb.clear();
        return;
      }
      const pde = pdeAlways || g.freedTables !== 0;
      const last = address + (1n << BigInt(lg2)) - 1n;
      iotlb.erase({ start: address, last, overlapping: true, leaves: true, walks: pde, leafSizes: upTo(lg2), walkSizes: upTo(lg2) });
    },
  };
}

/**
 * Page-selective-within-domain IOTLB invalidation: address and address mask
 * AM (a 4 KiB << AM aligned block, calculate_psi_aligned_address() in
 * drivers/iommu/intel/cache.c). It removes every leaf overlapping the block
 * whatever its size, and with IH=0 the paging-structure caches for it too
 * (VT-d spec 6.5.3.3: software must use IH=0 when it changed an entry that
 * references a paging structure); the driver sets IH=1 when no table was
 * freed. A mask past the address width is a domain-selective flush.
 */
export const VTD_MODEL: InvalidationModel = {
  name: 'VTD',
  source: 'VT-d spec 6.5.1.2 / 6.5.3.3; drivers/iommu/intel/cache.c calculate_psi_aligned_address()',
  invalidate(iotlb, g) {
    const { address, lg2 } = alignedBlock(g.start, g.end);
    if (lg2 - 12 >= 52) {
      iotlb.clear();
      return;
    }
    const ih = g.freedTables === 0;
    iotlb.erase({ start: address, last: address + (1n << BigInt(lg2)) - 1n, overlapping: true, leaves: true, walks: !ih });
  },
};

/**
 * IOTINVAL.VMA as the Linux RISC-V driver issues it: with AV=1 one command
 * per page of the range, each removing the leaves that hold that address
 * (non-leaf entries stay: no NL extension); a global invalidation (AV=0)
 * when tables were freed or the range is 2 MiB or more
 * (riscv_iommu_iotlb_inval() in drivers/iommu/riscv/iommu.c).
 */
export const RISCV_MODEL: InvalidationModel = {
  name: 'RISCV',
  source: 'RISC-V IOMMU spec 1.0 IOTINVAL.VMA; drivers/iommu/riscv/iommu.c riscv_iommu_iotlb_inval()',
  invalidate(iotlb, g, ctx) {
    if (g.freedTables !== 0 || g.end - g.start >= (1n << 21n) - 1n) {
      iotlb.clear();
      return;
    }
    const step = 1n << BigInt(ctx.smallestPgszLg2);
    for (let va = g.start; va <= g.end; va += step) {
      iotlb.erase({ start: va, last: va, overlapping: true, leaves: true, walks: false });
    }
  },
};

/** One SMMUv3 range invalidation command: TG granule, SCALE and NUM (NUM + 1 chunks of 2^SCALE granules). */
export interface Smmuv3RangeCmd {
  address: bigint;
  scale: number;
  /** The command's NUM field (chunks - 1, 0..31). */
  num: number;
  /** Bytes the command covers. */
  length: bigint;
}

/**
 * The range commands __arm_smmu_tlb_inv_range() (drivers/iommu/arm/
 * arm-smmu-v3/arm-smmu-v3.c) issues for [start, end] with granule 2^tgLg2
 * (SMMUv3 spec 4.4.1.2, range invalidation): each command takes the lowest
 * set bit of the pages left as SCALE and up to 31 chunks of it as NUM. A
 * non-leaf invalidation of exactly one chunk gets one more page (the driver
 * avoids SCALE = NUM = 0 there). TTL is left 0 (any level).
 */
export function smmuv3RangeCommands(start: bigint, end: bigint, tgLg2: number, leaf: boolean): Smmuv3RangeCmd[] {
  const tg = BigInt(tgLg2);
  let pages = (end - start + 1n) >> tg;
  if (pages === 0n) pages = 1n;
  if (!leaf && (pages & 31n) === 1n) pages++;
  const out: Smmuv3RangeCmd[] = [];
  let address = start;
  while (pages > 0n) {
    const scale = (pages & -pages).toString(2).length - 1;
    const chunks = (pages >> BigInt(scale)) & 31n;
    const length = chunks << (BigInt(scale) + tg);
    out.push({ address, scale, num: Number(chunks) - 1, length });
    address += length;
    pages -= chunks << BigInt(scale);
  }
  return out;
}

/**
 * SMMUv3 CMD_TLBI_NH_VA / S2_IPA range invalidation as the Linux driver
 * issues it for a gather: the commands of smmuv3RangeCommands, LEAF=1 (last
 * level only, walk caches kept) when no table was freed, LEAF=0 otherwise.
 * Each command reaches every entry overlapping its range (TTL = 0).
 */
export function smmuv3Model(opts: { granuleLg2: number }): InvalidationModel {
  return {
    name: 'SMMUV3',
    source: 'SMMUv3 spec 4.4.1 (TLBI range: TG/TTL/NUM/SCALE); arm-smmu-v3.c __arm_smmu_tlb_inv_range()',
    invalidate(iotlb, g) {
      const leaf = g.freedTables === 0;
      for (const c of smmuv3RangeCommands(g.start, g.end, opts.granuleLg2, leaf)) {
        iotlb.erase({ start: c.address, last: c.address + c.length - 1n, overlapping: true, leaves: true, walks: !leaf });
      }
    },
  };
}

/**
 * Apple DART: the Linux driver's iotlb_sync flushes the whole TLB of every
 * stream the domain is attached to (apple_dart_domain_flush_tlb() issues
 * DART_TLB_OP_FLUSH per stream, whatever the range): everything goes.
 */
export const DART_MODEL: InvalidationModel = {
  name: 'DART',
  source: 'drivers/iommu/apple-dart.c apple_dart_domain_flush_tlb(): a per-stream flush of everything',
  invalidate(iotlb) {
    iotlb.clear();
  },
};

/**
 * MediaTek's M4U (the ARMv7 short-descriptor's main user): iotlb_sync
 * writes the gather's first and last page to INVLD_START/END and issues a
 * range invalidation, which drops every TLB entry in those pages, walk
 * entries included (mtk_iommu_iotlb_sync() / mtk_iommu_tlb_flush_range_sync()
 * in drivers/iommu/mtk_iommu.c).
 */
export const MTK_MODEL: InvalidationModel = {
  name: 'MTK',
  source: 'drivers/iommu/mtk_iommu.c mtk_iommu_tlb_flush_range_sync(): a range invalidation of the gather, page granular',
  invalidate(iotlb, g) {
    iotlb.erase({ start: g.start & ~0xfffn, last: g.end | 0xfffn, overlapping: true, leaves: true, walks: true });
  },
};

export const INVALIDATION_MODELS = {
  GENERIC: GENERIC_MODEL,
  AMD: amdModel(),
  VTD: VTD_MODEL,
  RISCV: RISCV_MODEL,
  DART: DART_MODEL,
  MTK: MTK_MODEL,
} as const;
