/**
 * Descriptor bits a format ORs into every leaf it writes for one map call (the
 * kernel's struct pt_write_attrs), as the two 32-bit words of a 64-bit value.
 * One class for every format so the walker sees one shape.
 */
export class PtWriteAttrs {
  descriptorHi = 0;
  descriptorLo = 0;
  /** Allocation flags, carried for fidelity with the kernel API. */
  gfp = 0;

  set(hi: number, lo: number): this {
    this.descriptorHi = hi | 0;
    this.descriptorLo = lo | 0;
    return this;
  }
}

/** IOMMU_* prot bits (include/linux/iommu.h). */
export const IOMMU_READ = 1 << 0;
export const IOMMU_WRITE = 1 << 1;
export const IOMMU_CACHE = 1 << 2;
export const IOMMU_NOEXEC = 1 << 3;
export const IOMMU_MMIO = 1 << 4;
export const IOMMU_PRIV = 1 << 5;
/** Every prot bit the kernel defines. */
export const IOMMU_PROT_MASK = 0x3f;

/** read_and_clear_dirty flag: report dirty entries but leave them dirty. */
export const IOMMU_DIRTY_NO_CLEAR = 1 << 0;
