/**
 * The driver's constants, named as in the kernel's amd_iommu_types.h and
 * split into the 32-bit words the model writes (w0 = bits 31:0 of data[0],
 * w1 = bits 63:32 of data[0], w2/w3 = data[1], ...). The hardware model has
 * its own copy (hw/spec.ts) on purpose.
 */

/* MMIO offsets */
export const MMIO_DEV_TABLE_OFFSET = 0x0000;
export const MMIO_CMD_BUF_OFFSET = 0x0008;
export const MMIO_EVT_BUF_OFFSET = 0x0010;
export const MMIO_CONTROL_OFFSET = 0x0018;
export const MMIO_EXT_FEATURES = 0x0030;
export const MMIO_EXT_FEATURES2 = 0x01a0;
export const MMIO_CMD_HEAD_OFFSET = 0x2000;
export const MMIO_CMD_TAIL_OFFSET = 0x2008;
export const MMIO_EVT_HEAD_OFFSET = 0x2010;
export const MMIO_EVT_TAIL_OFFSET = 0x2018;
export const MMIO_STATUS_OFFSET = 0x2020;

/* Control register bit numbers */
export const CONTROL_IOMMU_EN = 0;
export const CONTROL_EVT_LOG_EN = 2;
export const CONTROL_CMDBUF_EN = 12;
export const CONTROL_GT_EN = 16;

/* Extended feature register (as a bigint: read once at init) */
export const FEATURE_PPR = 1n << 1n;
export const FEATURE_GT = 1n << 4n;
export const FEATURE_IA = 1n << 6n;
export const FEATURE_HATS_SHIFT = 10n;
export const FEATURE_GATS_SHIFT = 12n;
export const FEATURE_GLX_SHIFT = 14n;
export const FEATURE_PASMAX_SHIFT = 32n;
export const FEATURE_GIOSUP = 1n << 48n;
export const FEATURE_HASUP = 1n << 49n;
export const FEATURE_EPHSUP = 1n << 50n;
export const FEATURE_HDSUP = 1n << 52n;
/** PCI capability header bit: the IOMMU caches non-present entries. */
export const IOMMU_CAP_NPCACHE = 26;

/* Buffers */
export const DEV_TABLE_ENTRY_SIZE = 32;
export const CMD_BUFFER_SIZE = 8192;
export const EVT_BUFFER_SIZE = 8192;
/** log2(512 entries) in bits 59:56 of the buffer base registers. */
export const MMIO_RING_SIZE_512_HI = 0x9 << 24;
export const EVENT_ENTRY_SIZE = 0x10;
/** Polling bound of the command buffer and completion waits. */
export const LOOP_TIMEOUT = 100000;

/* Commands */
export const CMD_COMPL_WAIT = 0x01;
export const CMD_INV_DEV_ENTRY = 0x02;
export const CMD_INV_IOMMU_PAGES = 0x03;
export const CMD_INV_IOTLB_PAGES = 0x04;
export const CMD_INV_IRT = 0x05;
export const CMD_COMPLETE_PPR = 0x07;
export const CMD_INV_ALL = 0x08;
export const CMD_COMPL_WAIT_STORE_MASK = 0x01;
export const CMD_INV_IOMMU_PAGES_SIZE_MASK = 0x01;
export const CMD_INV_IOMMU_PAGES_PDE_MASK = 0x02;
export const CMD_INV_IOMMU_PAGES_GN_MASK = 0x04;
/** The "all pages" address, 0x7fffffffffffffff, as words. */
export const CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI = 0x7fffffff;
export const CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO = -1;
export const IOMMU_NO_PASID = 0;

/* Device Table Entry: data[0] low word (w0) */
export const DTE_FLAG_V = 1 << 0;
export const DTE_FLAG_TV = 1 << 1;
export const DTE_FLAG_HAD = 3 << 7;
export const DTE_MODE_SHIFT = 9;
export const DTE_MODE_MASK = 7 << 9;
/** Host page table root bits 31:12 in w0, 51:32 in w1 bits 19:0. */
export const DTE_HOST_TRP_LO = 0xfffff000 | 0;
export const DTE_HOST_TRP_HI = 0x000fffff;
/* data[0] high word (w1) */
export const DTE_FLAG_PPR_HI = 1 << 20;
export const DTE_FLAG_GIOV_HI = 1 << 22;
export const DTE_FLAG_GV_HI = 1 << 23;
export const DTE_GLX_SHIFT_HI = 24;
export const DTE_GCR3_14_12_SHIFT_HI = 26;
export const DTE_FLAG_IR_HI = 1 << 29;
export const DTE_FLAG_IW_HI = 1 << 30;
/* data[1] (w2, w3) */
export const DTE_DOMID_MASK = 0xffff;
export const DTE_GCR3_30_15_SHIFT = 16;
export const DTE_FLAG_IOTLB_HI = 1 << 0;
export const DTE_GCR3_51_31_SHIFT_HI = 11;
/* data[2] high word (w5): guest paging level, bits 55:54 */
export const DTE_GPT_LEVEL_SHIFT_HI = 22;
export const DTE_GPT_LEVEL_MASK_HI = 3 << 22;
/** Interrupt remapping bits of data[2] the DMA path must preserve: all but 55:52. */
export const DTE_DATA2_NOT_INTR_MASK_HI = 0xf << 20;

export const GUEST_PGTABLE_4_LEVEL = 0;
export const GUEST_PGTABLE_5_LEVEL = 1;
export const PAGE_MODE_4_LEVEL = 4;
export const PAGE_MODE_5_LEVEL = 5;
export const GCR3_VALID = 1;

/* Events */
export const EVENT_TYPE_ILL_DEV = 0x1;
export const EVENT_TYPE_IO_FAULT = 0x2;
export const EVENT_TYPE_DEV_TAB_ERR = 0x3;
export const EVENT_TYPE_PAGE_TAB_ERR = 0x4;
export const EVENT_TYPE_ILL_CMD = 0x5;
export const EVENT_TYPE_CMD_HARD_ERR = 0x6;
export const EVENT_TYPE_IOTLB_INV_TO = 0x7;
export const EVENT_TYPE_INV_DEV_REQ = 0x8;
export const EVENT_TYPE_INV_PPR_REQ = 0x9;
export const EVENT_FLAG_RW = 0x020;
export const EVENT_FLAG_I = 0x008;

/* iommufd's domain allocation flags (include/uapi/linux/iommufd.h) */
export const IOMMU_HWPT_ALLOC_NEST_PARENT = 1 << 0;
export const IOMMU_HWPT_ALLOC_DIRTY_TRACKING = 1 << 1;
export const IOMMU_HWPT_ALLOC_PASID = 1 << 3;

/** Domain IDs come from 1..MAX_DOMAIN_ID - 1. */
export const MAX_DOMAIN_ID = 65536;

/** The kernel's AMD_IOMMU_PGSIZES: every power of two from 4 KiB to 2^51 except 512 GiB. */
export const AMD_IOMMU_PGSIZES = ((1n << 52n) - (1n << 12n)) ^ (1n << 39n);
/** amd_iommu=nohugepages */
export const AMD_IOMMU_PGSIZES_4K = 1n << 12n;
/** amd_iommu=v2_pgsizes_only */
export const AMD_IOMMU_PGSIZES_V2 = (1n << 12n) | (1n << 21n) | (1n << 30n);
