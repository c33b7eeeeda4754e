/**
 * Building the 16-byte commands the driver queues (iommu.c build_*): four
 * 32-bit words, the opcode in bits 31:28 of the second. Addresses and sizes
 * are u64 word pairs, so a whole-domain flush (size 2^63 - 1) encodes
 * exactly as the kernel's.
 */
import { fls64, numberHi, numberLo, u64AddHi, u64AddLo, u64DecHi, u64DecLo, U64Pair } from '@genpt/pt-core';
import {
  CMD_COMPL_WAIT,
  CMD_COMPL_WAIT_STORE_MASK,
  CMD_INV_ALL,
  CMD_INV_DEV_ENTRY,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI,
  CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO,
  CMD_INV_IOMMU_PAGES,
  CMD_INV_IOMMU_PAGES_GN_MASK,
  CMD_INV_IOMMU_PAGES_PDE_MASK,
  CMD_INV_IOMMU_PAGES_SIZE_MASK,
  CMD_INV_IOTLB_PAGES,
  CMD_INV_IRT,
} from './types.js';

const PAGE_MASK_LO = ~0xfff;

/** struct iommu_cmd */
export class IommuCmd {
  readonly data = new Int32Array(4);

  clear(): this {
    this.data.fill(0);
    return this;
  }

  get opcode(): number {
    return (this.data[1]! >>> 28) & 0xf;
  }
}

function setType(cmd: IommuCmd, type: number): void {
  cmd.data[1] = cmd.data[1]! | (type << 28);
}

/** COMPLETION_WAIT storing the 64-bit value at semPa. */
export function buildCompletionWait(cmd: IommuCmd, semPa: number, valueHi: number, valueLo: number): void {
  cmd.clear();
  cmd.data[0] = numberLo(semPa) | CMD_COMPL_WAIT_STORE_MASK;
  cmd.data[1] = numberHi(semPa);
  cmd.data[2] = valueLo;
  cmd.data[3] = valueHi;
  setType(cmd, CMD_COMPL_WAIT);
}

/** INVALIDATE_DEVTAB_ENTRY */
export function buildInvDte(cmd: IommuCmd, devid: number): void {
  cmd.clear();
  cmd.data[0] = devid;
  setType(cmd, CMD_INV_DEV_ENTRY);
}

/**
 * build_inv_address(): one page as is; more than one page as the address
 * with every bit below the highest bit where start and end differ set, and
 * S — the smallest naturally aligned power-of-two block holding the range.
 * Ranges differing above bit 51 become the all-pages address.
 */
export function buildInvAddress(addrHi: number, addrLo: number, sizeHi: number, sizeLo: number, out: U64Pair): U64Pair {
  // iommu_num_pages(): pages touched by [address, address + size), in u64 arithmetic
  const off = addrLo & 0xfff;
  const oHi = u64AddHi(0, off, sizeHi, sizeLo);
  const oLo = u64AddLo(0, off, sizeHi, sizeLo);
  const tHi = u64AddHi(oHi, oLo, 0, 0xfff);
  const tLo = u64AddLo(oHi, oLo, 0, 0xfff);
  if (tHi === 0 && tLo >>> 0 >= 0x1000 && tLo >>> 0 < 0x2000) return out.set(addrHi, addrLo & PAGE_MASK_LO);

  // end = address + size - 1
  const e1Hi = u64AddHi(addrHi, addrLo, sizeHi, sizeLo);
  const e1Lo = u64AddLo(addrHi, addrLo, sizeHi, sizeLo);
  const eHi = u64DecHi(e1Hi, e1Lo);
  const eLo = u64DecLo(e1Hi, e1Lo);
  const msbDiff = fls64(eHi ^ addrHi, eLo ^ addrLo) - 1;
  let hi: number;
  let lo: number;
  if (msbDiff > 51) {
    hi = CMD_INV_IOMMU_ALL_PAGES_ADDRESS_HI;
    lo = CMD_INV_IOMMU_ALL_PAGES_ADDRESS_LO;
  } else {
    // address |= (1 << msbDiff) - 1
    hi = addrHi | (msbDiff > 32 ? ~(-1 << (msbDiff - 32)) : 0);
    lo = addrLo | (msbDiff >= 32 ? -1 : ~(-1 << msbDiff));
  }
  return out.set(hi, (lo & PAGE_MASK_LO) | CMD_INV_IOMMU_PAGES_SIZE_MASK);
}

const invAddr = new U64Pair();

/** INVALIDATE_IOMMU_PAGES for [address, address + size) of a domain; PDE always set. */
export function buildInvIommuPages(
  cmd: IommuCmd,
  addrHi: number,
  addrLo: number,
  sizeHi: number,
  sizeLo: number,
  domid: number,
  pasid: number,
  gn: boolean,
): void {
  const a = buildInvAddress(addrHi, addrLo, sizeHi, sizeLo, invAddr);
  cmd.clear();
  cmd.data[1] = domid;
  cmd.data[2] = a.lo;
  cmd.data[3] = a.hi;
  // Drop cached directory entries too, not only the leaves.
  cmd.data[2] = cmd.data[2]! | CMD_INV_IOMMU_PAGES_PDE_MASK;
  if (gn) {
    cmd.data[0] = cmd.data[0]! | pasid;
    cmd.data[2] = cmd.data[2]! | CMD_INV_IOMMU_PAGES_GN_MASK;
  }
  setType(cmd, CMD_INV_IOMMU_PAGES);
}

/** INVALIDATE_IOTLB_PAGES: the same range for a device's ATC. */
export function buildInvIotlbPages(
  cmd: IommuCmd,
  devid: number,
  qdep: number,
  addrHi: number,
  addrLo: number,
  sizeHi: number,
  sizeLo: number,
  pasid: number,
  gn: boolean,
): void {
  const a = buildInvAddress(addrHi, addrLo, sizeHi, sizeLo, invAddr);
  cmd.clear();
  cmd.data[0] = devid | ((qdep & 0xff) << 24);
  cmd.data[1] = devid;
  cmd.data[2] = a.lo;
  cmd.data[3] = a.hi;
  if (gn) {
    cmd.data[0] = cmd.data[0]! | (((pasid >>> 8) & 0xff) << 16);
    cmd.data[1] = cmd.data[1]! | ((pasid & 0xff) << 16);
    cmd.data[2] = cmd.data[2]! | CMD_INV_IOMMU_PAGES_GN_MASK;
  }
  setType(cmd, CMD_INV_IOTLB_PAGES);
}

/** INVALIDATE_IOMMU_ALL */
export function buildInvAll(cmd: IommuCmd): void {
  cmd.clear();
  setType(cmd, CMD_INV_ALL);
}

/** INVALIDATE_INTERRUPT_TABLE */
export function buildInvIrt(cmd: IommuCmd, devid: number): void {
  cmd.clear();
  cmd.data[0] = devid;
  setType(cmd, CMD_INV_IRT);
}
