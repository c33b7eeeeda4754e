/**
 * A raw little-endian memory image (a simulator's RAM, a crash dump) seen
 * by physical address. Tables are read from the file as the walk reaches
 * them, so an image of any size works without loading it.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export class MemoryImage {
  /** PA of the image's first byte. */
  readonly base: number;
  readonly size: number;
  private readonly fd: number;

  constructor(file: string, base: number) {
    this.fd = openSync(file, 'r');
    this.size = fstatSync(this.fd).size;
    this.base = base;
  }

  /** One past the last PA. */
  get end(): number {
    return this.base + this.size;
  }

  /** [pa, pa + len) lies inside the image. */
  contains(pa: number, len: number): boolean {
    return pa >= this.base && pa + len <= this.end;
  }

  /**
   * The bytes [pa, pa + len) as 32-bit words (len a multiple of 8, pa
   * 8-byte aligned); the part outside the image reads as zero.
   */
  readWords(pa: number, len: number): Int32Array {
    const buf = Buffer.alloc(len);
    const from = Math.max(pa, this.base);
    const to = Math.min(pa + len, this.end);
    if (to > from) readSync(this.fd, buf, from - pa, to - from, from - this.base);
    const words = new Int32Array(len / 4);
    for (let i = 0; i < words.length; i++) words[i] = buf.readInt32LE(4 * i);
    return words;
  }

  close(): void {
    closeSync(this.fd);
  }
}
