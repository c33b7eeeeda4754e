/**
 * RISC-V page table entry bits (privileged spec, Sv39/Sv48/Sv57 PTEs and the
 * Svnapot extension), as the low and high 32-bit words of the 64-bit entry.
 */

/** Bit 0: valid. V=0 is an empty item whatever the other bits say. */
export const RISCVPT_V = 1 << 0;
/** Bit 1: readable. */
export const RISCVPT_R = 1 << 1;
/** Bit 2: writable. */
export const RISCVPT_W = 1 << 2;
/** Bit 3: executable. */
export const RISCVPT_X = 1 << 3;
/** Bit 4: user. */
export const RISCVPT_U = 1 << 4;
/** Bit 5: global. */
export const RISCVPT_G = 1 << 5;
/** Bit 6: accessed. */
export const RISCVPT_A = 1 << 6;
/** Bit 7: dirty. */
export const RISCVPT_D = 1 << 7;
/** Bits 9:8: reserved for software (the kernel does not use them here). */
export const RISCVPT_RSW = 3 << 8;
/** A leaf has at least one of R, W, X; a valid item with none is a table pointer. */
export const RISCVPT_RWX = RISCVPT_R | RISCVPT_W | RISCVPT_X;

/**
 * Bits 53:10, the PPN (PA >> 12): low word bits 31:10, high word bits 21:0.
 * The field is PA >> 2 in place, since PA bits 11:0 are zero.
 */
export const RISCVPT_PPN64_LO = 0xfffffc00 | 0;
export const RISCVPT_PPN64_HI = 0x003fffff;
/** Bits 53:14, the PPN of a 64 KiB Svnapot leaf (PA >> 16 at bit 14). */
export const RISCVPT_PPN64_64K_LO = 0xffffc000 | 0;
/** Bits 62:61 (high word bits 30:29): Svpbmt memory type (not written by Linux 7.0). */
export const RISCVPT_PBMT_HI = 3 << 29;
/** Bit 63 (high word bit 31): N, a Svnapot contiguous leaf. */
export const RISCVPT_N_HI = 1 << 31;
/** Bit 13: PPN[3:0] = 1000b, Svnapot's encoding of a 64 KiB range. */
export const RISCVPT_PPN64_64K_SZ = 1 << 13;

/** The bits attrFromEntry keeps: permissions and the flags set_prot writes. */
export const RISCVPT_ATTR_BITS = RISCVPT_R | RISCVPT_W | RISCVPT_X | RISCVPT_U | RISCVPT_G | RISCVPT_A | RISCVPT_D;

/** log2 of the items in a Svnapot 64 KiB leaf (16 × 4 KiB). */
export const RISCVPT_NAPOT_64K_CONTIG_LG2 = 4;

/** PT_FEAT_RISCV_SVNAPOT_64K: 64 KiB leaves at level 0 as 16 Svnapot items. */
export const PT_FEAT_RISCV_SVNAPOT_64K = 6;
