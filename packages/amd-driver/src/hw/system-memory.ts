/**
 * Physical memory as the IOMMU and DMA see it: the table memory arena (where
 * the driver keeps page tables, the device table, the command buffer, the
 * event log and the GCR3 tables) and, everywhere else, sparse 4 KiB pages of
 * RAM that read as zero until written. One address space, so a DMA mapped
 * onto a page table would really change it, as on a machine.
 */
import { argBytes, argDescribe, argInt, PtError, type TableMemory } from '@genpt/pt-core';

const PAGE_LG2 = 12;
const PAGE = 1 << PAGE_LG2;
/** Physical addresses are below 2^52 (the AMD IOMMU's widest OA). */
const PA_LIMIT = 2 ** 52;

interface RamPage {
  words: Int32Array;
  bytes: Uint8Array;
}

export class SystemMemory {
  readonly tables: TableMemory;
  private readonly ram = new Map<number, RamPage>();
  private readonly arenaBytes: Uint8Array;

  constructor(tables: TableMemory) {
    this.tables = tables;
    const w = tables.words;
    this.arenaBytes = new Uint8Array(w.buffer, w.byteOffset, w.byteLength);
  }

  /** RAM pages written so far (outside the table arena). */
  get ramPages(): number {
    return this.ram.size;
  }

  /** The 32-bit little-endian word at pa (4-byte aligned). */
  read32(pa: number): number {
    checkPa(pa, 4);
    if (this.tables.contains(pa)) return this.tables.read32(pa);
    const page = this.ram.get(Math.floor(pa / PAGE));
    return page === undefined ? 0 : page.words[(pa % PAGE) >>> 2]!;
  }

  write32(pa: number, v: number): void {
    checkPa(pa, 4);
    if (this.tables.contains(pa)) {
      this.tables.write32(pa, v);
      return;
    }
    this.page(pa).words[(pa % PAGE) >>> 2] = v;
  }

  /** OR bits into the word at pa (the hardware's locked update of A/D bits). */
  or32(pa: number, bits: number): void {
    this.write32(pa, this.read32(pa) | bits);
  }

  /** Copy [pa, pa + len) out. */
  readBytes(pa: number, len: number, out?: Uint8Array, outOffset = 0): Uint8Array {
    checkRange(pa, len);
    if (out === undefined) out = new Uint8Array(len);
    argInt(outOffset, 0, 2 ** 31, 'readBytes', 'outOffset');
    argBytes(out, outOffset + len, 'readBytes', 'out');
    let done = 0;
    while (done < len) {
      const at = pa + done;
      const n = Math.min(len - done, PAGE - (at % PAGE));
      if (this.tables.contains(at)) {
        const off = at - this.tables.basePa;
        out.set(this.arenaBytes.subarray(off, off + n), outOffset + done);
      } else {
        const page = this.ram.get(Math.floor(at / PAGE));
        if (page === undefined) out.fill(0, outOffset + done, outOffset + done + n);
        else out.set(page.bytes.subarray(at % PAGE, (at % PAGE) + n), outOffset + done);
      }
      done += n;
    }
    return out;
  }

  /** Copy `data` (or `len` bytes of it from `offset`) to pa. */
  writeBytes(pa: number, data: Uint8Array, offset = 0, len?: number): void {
    argBytes(data, 0, 'writeBytes', 'data');
    argInt(offset, 0, data.length, 'writeBytes', 'offset');
    if (len === undefined) len = data.length - offset;
    argInt(len, 0, data.length - offset, 'writeBytes', 'len');
    checkRange(pa, len);
    let done = 0;
    while (done < len) {
      const at = pa + done;
      const n = Math.min(len - done, PAGE - (at % PAGE));
      const src = data.subarray(offset + done, offset + done + n);
      if (this.tables.contains(at)) this.arenaBytes.set(src, at - this.tables.basePa);
      else this.page(at).bytes.set(src, at % PAGE);
      done += n;
    }
  }

  private page(pa: number): RamPage {
    const pfn = Math.floor(pa / PAGE);
    let page = this.ram.get(pfn);
    if (page === undefined) {
      const words = new Int32Array(PAGE / 4);
      page = { words, bytes: new Uint8Array(words.buffer) };
      this.ram.set(pfn, page);
    }
    return page;
  }
}

function checkPa(pa: number, align: number): void {
  if (!Number.isInteger(pa) || pa < 0 || pa >= PA_LIMIT || pa % align !== 0) {
    throw new PtError('EINVAL', `bad physical address ${argDescribe(pa)}`);
  }
}

function checkRange(pa: number, len: number): void {
  if (!Number.isInteger(pa) || !Number.isInteger(len) || pa < 0 || len < 0 || pa + len > PA_LIMIT) {
    throw new PtError('EINVAL', `bad physical range ${argDescribe(pa)} +${argDescribe(len)}`);
  }
}
