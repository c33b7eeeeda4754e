/**
 * The architectural numbers the hardware model works from (AMD I/O
 * Virtualization Technology (IOMMU) Specification): MMIO register offsets,
 * control bits, command opcodes, event codes and fault flags. Written down
 * here separately from the driver's copy (driver/types.ts, after the kernel's
 * amd_iommu_types.h) so a wrong bit on one side shows up as a failing test
 * instead of agreeing with itself.
 */

/* MMIO register offsets */
export const MMIO_DEVTAB_BASE = 0x0000;
export const MMIO_CMDBUF_BASE = 0x0008;
export const MMIO_EVTLOG_BASE = 0x0010;
export const MMIO_CONTROL = 0x0018;
export const MMIO_EFR = 0x0030;
export const MMIO_EFR2 = 0x01a0;
export const MMIO_CMD_HEAD = 0x2000;
export const MMIO_CMD_TAIL = 0x2008;
export const MMIO_EVT_HEAD = 0x2010;
export const MMIO_EVT_TAIL = 0x2018;
export const MMIO_STATUS = 0x2020;

/* Control register bits (all in the low word) */
export const CTRL_IOMMU_EN = 1 << 0;
export const CTRL_EVT_LOG_EN = 1 << 2;
export const CTRL_CMDBUF_EN = 1 << 12;
export const CTRL_GT_EN = 1 << 16;

/* Status register bits */
export const STATUS_EVT_OVERFLOW = 1 << 0;
export const STATUS_EVT_INT = 1 << 1;
export const STATUS_COMWAIT_INT = 1 << 2;
export const STATUS_EVT_RUN = 1 << 3;
export const STATUS_CMDBUF_RUN = 1 << 4;
/** Write-1-to-clear bits. */
export const STATUS_W1C = STATUS_EVT_OVERFLOW | STATUS_EVT_INT | STATUS_COMWAIT_INT;

/* Extended Feature Register fields (low word unless noted) */
export const EFR_PPR = 1 << 1;
export const EFR_GT = 1 << 4;
export const EFR_IA = 1 << 6;
export const EFR_HATS_SHIFT = 10;
export const EFR_GATS_SHIFT = 12;
export const EFR_GLX_SHIFT = 14;
/** High word: PASmax bits 36:32, GIOSup 48, HASup 49, EPHSup 50, HDSup 52. */
export const EFR_HI_PASMAX_MASK = 0x1f;
export const EFR_HI_GIOSUP = 1 << 16;
export const EFR_HI_HASUP = 1 << 17;
export const EFR_HI_EPHSUP = 1 << 18;
export const EFR_HI_HDSUP = 1 << 20;

/** PCI capability header bit 26: the IOMMU caches not-present entries. */
export const CAP_NPCACHE = 1 << 26;

/* Ring sizes: the base registers carry log2(entries) in bits 59:56. */
export const RING_ENTRY_BYTES = 16;

/* Command opcodes (bits 31:28 of the second word) */
export const CMD_COMPLETION_WAIT = 1;
export const CMD_INVALIDATE_DEVTAB_ENTRY = 2;
export const CMD_INVALIDATE_IOMMU_PAGES = 3;
export const CMD_INVALIDATE_IOTLB_PAGES = 4;
export const CMD_INVALIDATE_INTERRUPT_TABLE = 5;
export const CMD_PREFETCH_IOMMU_PAGES = 6;
export const CMD_COMPLETE_PPR_REQUEST = 7;
export const CMD_INVALIDATE_IOMMU_ALL = 8;

export const COMMAND_NAMES: Readonly<Record<number, string>> = {
  [CMD_COMPLETION_WAIT]: 'COMPLETION_WAIT',
  [CMD_INVALIDATE_DEVTAB_ENTRY]: 'INVALIDATE_DEVTAB_ENTRY',
  [CMD_INVALIDATE_IOMMU_PAGES]: 'INVALIDATE_IOMMU_PAGES',
  [CMD_INVALIDATE_IOTLB_PAGES]: 'INVALIDATE_IOTLB_PAGES',
  [CMD_INVALIDATE_INTERRUPT_TABLE]: 'INVALIDATE_INTERRUPT_TABLE',
  [CMD_PREFETCH_IOMMU_PAGES]: 'PREFETCH_IOMMU_PAGES',
  [CMD_COMPLETE_PPR_REQUEST]: 'COMPLETE_PPR_REQUEST',
  [CMD_INVALIDATE_IOMMU_ALL]: 'INVALIDATE_IOMMU_ALL',
};

/* Event codes (bits 31:28 of the second word) */
export const EVT_ILLEGAL_DEV_TABLE_ENTRY = 1;
export const EVT_IO_PAGE_FAULT = 2;
export const EVT_DEV_TAB_HARDWARE_ERROR = 3;
export const EVT_PAGE_TAB_HARDWARE_ERROR = 4;
export const EVT_ILLEGAL_COMMAND_ERROR = 5;

/* IO_PAGE_FAULT flags (the 12-bit field at bits 27:16 of the second word) */
export const FAULT_FLAG_GN = 0x001;
export const FAULT_FLAG_NX = 0x002;
export const FAULT_FLAG_US = 0x004;
export const FAULT_FLAG_I = 0x008;
/** A translation was present: a permission fault rather than a missing page. */
export const FAULT_FLAG_PR = 0x010;
export const FAULT_FLAG_RW = 0x020;
export const FAULT_FLAG_PE = 0x040;
/** A reserved bit or an illegal encoding was found in a table entry. */
export const FAULT_FLAG_RZ = 0x080;
export const FAULT_FLAG_TR = 0x100;
