import { describe, expect, it } from 'vitest';
import { TableMemory } from '../src/index.js';

describe('TableMemory', () => {
  it('hands out zeroed tables aligned to their size', () => {
    const mem = new TableMemory({ maxBytes: 2 ** 20 });
    for (const lg2 of [12, 13, 12, 14, 12, 15, 12, 16]) {
      const pa = mem.alloc(lg2);
      expect(pa).toBeGreaterThanOrEqual(mem.basePa);
      expect(pa % 2 ** lg2).toBe(0);
      expect(mem.blockLg2(pa)).toBe(lg2);
      const i = mem.wordIndex(pa);
      expect(mem.words.subarray(i, i + 2 ** lg2 / 4).every((x) => x === 0)).toBe(true);
      mem.words.fill(-1, i, i + 2 ** lg2 / 4); // dirty it so reuse must re-zero
    }
  });

  it('aligns naturally even from an unaligned base', () => {
    const mem = new TableMemory({ basePa: 0x1000, maxBytes: 2 ** 20 });
    const a = mem.alloc(12);
    const b = mem.alloc(16);
    expect(a).toBe(0x1000);
    expect(b % 2 ** 16).toBe(0);
    // The gap before b went to the free lists and is used again.
    const c = mem.alloc(13);
    expect(c).toBeLessThan(b);
    expect(c % 8192).toBe(0);
  });

  it('rounds sub-page requests up to one page', () => {
    const mem = new TableMemory();
    const pa = mem.alloc(10);
    expect(mem.blockLg2(pa)).toBe(12);
    expect(mem.pagesInUse).toBe(1);
  });

  it('re-zeroes reused tables and never overlaps live ones', () => {
    const mem = new TableMemory({ maxBytes: 2 ** 20 });
    const live = new Set<number>();
    const a = mem.alloc(12);
    mem.write64(a + 8, -1, -1);
    mem.free(a);
    const b = mem.alloc(12);
    expect(mem.read64Lo(b + 8)).toBe(0);
    expect(mem.read64Hi(b + 8)).toBe(0);
    live.add(b);
    for (let i = 0; i < 40; i++) {
      const pa = mem.alloc(i % 3 === 0 ? 13 : 12);
      for (const o of live) expect(Math.abs(pa - o)).toBeGreaterThanOrEqual(4096);
      live.add(pa);
    }
  });

  it('counts pages in use back to zero', () => {
    const mem = new TableMemory();
    const pas = [mem.alloc(12), mem.alloc(13), mem.alloc(12), mem.alloc(14)];
    expect(mem.pagesInUse).toBe(1 + 2 + 1 + 4);
    for (const pa of pas) mem.free(pa);
    expect(mem.pagesInUse).toBe(0);
    expect(mem.allocatedBlocks()).toEqual([]);
  });

  it('fails the n-th allocation when told to, once or sticky', () => {
    const mem = new TableMemory();
    mem.failNthAlloc(2);
    expect(mem.alloc(12)).toBeGreaterThan(0);
    expect(mem.alloc(12)).toBe(-1);
    expect(mem.alloc(12)).toBeGreaterThan(0);
    mem.failNthAlloc(1, { sticky: true });
    expect(mem.alloc(12)).toBe(-1);
    expect(mem.alloc(12)).toBe(-1);
    mem.failNthAlloc(0);
    expect(mem.alloc(12)).toBeGreaterThan(0);
    expect(mem.pagesInUse).toBe(3);
    expect(mem.allocCalls).toBe(6);
  });

  it('refuses allocations past the arena', () => {
    const mem = new TableMemory({ maxBytes: 3 * 4096 });
    expect(mem.alloc(13)).toBeGreaterThan(0);
    expect(mem.alloc(13)).toBe(-1);
    expect(mem.alloc(12)).toBeGreaterThan(0);
    expect(mem.alloc(12)).toBe(-1);
  });

  it('reads, writes and compare-exchanges 64-bit entries as two words', () => {
    const mem = new TableMemory();
    const pa = mem.alloc(12);
    mem.write64(pa + 16, 0x60000000, 0x1001);
    expect(mem.read32(pa + 16)).toBe(0x1001);
    expect(mem.read32(pa + 20)).toBe(0x60000000);
    expect(mem.cmpxchg64(pa + 16, 0, 0x1001, 1, 2)).toBe(false);
    expect(mem.cmpxchg64(pa + 16, 0x60000000, 0x1001, 1, 2)).toBe(true);
    expect([mem.read64Hi(pa + 16), mem.read64Lo(pa + 16)]).toEqual([1, 2]);
    // Little-endian image: low word first, low byte first.
    expect([...mem.readBytes(pa + 16, 8)]).toEqual([2, 0, 0, 0, 1, 0, 0, 0]);
  });

  it('rejects frees of unknown addresses and accesses outside the arena', () => {
    const mem = new TableMemory({ maxBytes: 2 ** 16 });
    const pa = mem.alloc(12);
    expect(() => mem.free(pa + 4096)).toThrow(/^EINVAL: TableMemory.free: 0x[0-9a-f]+ is not an allocated table/);
    mem.free(pa);
    expect(() => mem.free(pa)).toThrow(/^EINVAL: /);
    expect(() => mem.read32(mem.basePa - 8)).toThrow(/^EFAULT: PA 0x[0-9a-f]+ is outside table memory/);
    expect(() => mem.read32(mem.endPa)).toThrow(/^EFAULT: /);
    expect(() => mem.readBytes(mem.endPa - 4, 8)).toThrow(/^EFAULT: /);
    expect(() => new TableMemory({ basePa: 4097 })).toThrow(/^EINVAL: TableMemory: opts.basePa 0x1001 is not 4 KiB aligned/);
    expect(() => new TableMemory({ maxBytes: 2 ** 33 })).toThrow(/^EINVAL: TableMemory: opts.maxBytes 8589934592 is not an integer/);
  });

  it('keeps a table where it is while others come and go', () => {
    const mem = new TableMemory({ maxBytes: 2 ** 20 });
    const first = mem.alloc(12);
    mem.write32(first, 42);
    for (let i = 0; i < 10; i++) mem.free(mem.alloc(13));
    expect(mem.read32(first)).toBe(42);
    expect(mem.touchedBytes).toBeLessThanOrEqual(2 ** 20);
  });

  it('fromImage: image pages are reserved (never allocated) until claimed; claim, unclaim and releaseReserved', () => {
    const src = new TableMemory({ basePa: 2 ** 32, maxBytes: 2 ** 20 });
    const a = src.alloc(12);
    const b = src.alloc(13);
    src.write64(a + 8, 0x12, 0x345678);
    src.write64(b + 4096, 0x9, 0xabc);
    const img = src.readBytes(src.basePa, src.touchedBytes);
    const mem = TableMemory.fromImage(img, { basePa: src.basePa });
    expect(mem.reservedPages).toBe(img.length / 4096);
    expect(mem.pagesInUse).toBe(0);
    // alloc never hands out an image page
    const c = mem.alloc(12);
    expect(c).toBeGreaterThanOrEqual(src.basePa + img.length);
    expect(mem.claimable(a, 12)).toBe(true);
    expect(mem.claimable(b, 13)).toBe(true);
    expect(mem.claimable(b + 4096, 13)).toBe(false); // misaligned
    expect(mem.claimable(c, 12)).toBe(false); // not an image page
    mem.claim(b, 13);
    expect(mem.blockLg2(b)).toBe(13);
    expect(mem.read64Lo(b + 4096)).toBe(0xabc);
    expect(mem.claimable(b, 13)).toBe(false);
    expect(() => mem.claim(b, 13)).toThrow(/EINVAL/);
    mem.unclaim(b);
    expect(mem.claimable(b, 13)).toBe(true);
    mem.claim(a, 12);
    expect(mem.read64Hi(a + 8)).toBe(0x12);
    expect(mem.pagesInUse).toBe(2);
    mem.releaseReserved();
    expect(mem.reservedPages).toBe(0);
    expect(mem.claimable(b, 13)).toBe(false);
    // released pages are allocatable again (and zeroed)
    const d = mem.alloc(13);
    expect(d).toBe(b);
    expect(mem.read64Lo(b + 4096)).toBe(0);
    mem.free(a);
    expect(mem.pagesInUse).toBe(1 + 2);
  });

  it('fromImage: a partial last page is never claimable; bad arguments are EINVAL', () => {
    const mem = TableMemory.fromImage(new Uint8Array(4096 + 100), { basePa: 2 ** 32 });
    expect(mem.claimable(2 ** 32, 12)).toBe(true);
    expect(mem.claimable(2 ** 32 + 4096, 12)).toBe(false);
    expect(mem.reservedPages).toBe(1);
    expect(() => TableMemory.fromImage([] as unknown as Uint8Array)).toThrow(/EINVAL/);
    expect(() => TableMemory.fromImage(new Uint8Array(8192), { maxBytes: 4096 })).toThrow(/EINVAL/);
  });
});
