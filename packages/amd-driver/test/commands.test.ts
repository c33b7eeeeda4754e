/**
 * INVALIDATE_IOMMU_PAGES address encoding: the driver's build_inv_address
 * against hand-worked values, and against the hardware's independent
 * decoding for any range — the block flushed must hold the range and be the
 * smallest naturally aligned block that does.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { U64Pair } from '@genpt/pt-core';
import { buildInvAddress, buildInvIommuPages, decodeInvAddress, IommuCmd } from '../dist/index.js';

const M64 = (1n << 64n) - 1n;

function enc(addr: bigint, size: bigint): bigint {
  const w = (v: bigint): [number, number] => [Number(v >> 32n) | 0, Number(v & 0xffffffffn) | 0];
  const [ah, al] = w(addr);
  const [sh, sl] = w(size & M64);
  return buildInvAddress(ah, al, sh, sl, new U64Pair()).bigint();
}

function dec(a: bigint): [bigint, bigint] {
  const out = new Int32Array(4);
  decodeInvAddress(Number(a >> 32n) | 0, Number(a & 0xffffffffn) | 0, (a & 1n) === 1n, out);
  const u = (hi: number, lo: number): bigint => (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return [u(out[0]!, out[1]!), u(out[2]!, out[3]!)];
}

describe('build_inv_address', () => {
  it.each([
    ['one page, any offset', 0x1234n, 0x10n, 0x1000n],
    ['a whole page', 0x7000n, 0x1000n, 0x7000n],
    ['two pages across a 16 KiB boundary', 0x1ff0n, 0x20n, 0x1001n],
    ['2 MiB at 1 GiB', 0x40000000n, 0x200000n, 0x400ff001n],
    ['[0x3000, 0x8000) (the 32 KiB block at 0)', 0x3000n, 0x5000n, 0x3001n],
    ['2^52 bytes at 0: still a block', 0n, 1n << 52n, (1n << 51n) - 0x1000n + 1n],
    ['one byte more: everything', 0n, (1n << 52n) + 1n, 0x7ffffffffffff001n],
    ['flush_all (0, 2^63 - 1)', 0n, 0x7fffffffffffffffn, 0x7ffffffffffff001n],
    ['an empty gather [iova, iova - 1]', 0x5000n, 0n, 0x5001n],
  ])('%s', (_name, addr, size, want) => {
    expect(enc(addr, size).toString(16)).toBe(want.toString(16));
  });

  it('hardware decoding of the same examples', () => {
    expect(dec(0x400ff001n)).toEqual([0x40000000n, 0x401fffffn]);
    expect(dec(0x5001n)).toEqual([0x4000n, 0x7fffn]);
    expect(dec(0x1234n)).toEqual([0x1000n, 0x1fffn]); // S = 0: one page
    expect(dec(0x7ffffffffffff001n)).toEqual([0n, M64]);
  });

  it('INVALIDATE_IOMMU_PAGES words: DomainID, PDE always, GN and PASID for guest flushes', () => {
    const cmd = new IommuCmd();
    buildInvIommuPages(cmd, 0, 0x40000000, 0, 0x200000, 0x1234, 0, false);
    expect([...cmd.data].map((w) => w >>> 0)).toEqual([0, 0x30001234, 0x400ff003, 0]);
    buildInvIommuPages(cmd, 0x1, 0x2000, 0, 0x1000, 7, 0x42, true);
    expect([...cmd.data].map((w) => w >>> 0)).toEqual([0x42, 0x30000007, 0x2006, 1]);
    expect(cmd.opcode).toBe(3);
  });

  it('for every range: the decoded block holds it and is the smallest aligned block that does', () => {
    const range = fc
      .tuple(fc.bigInt({ min: 0n, max: M64 }), fc.integer({ min: 1, max: 62 }), fc.bigInt({ min: 1n, max: M64 }))
      .map(([addr, bits, raw]) => {
        const size = (raw % (1n << BigInt(bits))) + 1n; // sizes of every magnitude
        return [addr, size > M64 - addr + 1n ? M64 - addr + 1n : size] as const;
      });
    fc.assert(
      fc.property(range, ([addr, size]) => {
        const last = addr + size - 1n;
        const [first, end] = dec(enc(addr, size));
        expect(first <= addr && last <= end).toBe(true);
        const msb = (addr ^ last).toString(2).length - 1; // -1 when equal
        if (msb > 51) {
          expect([first, end]).toEqual([0n, M64]);
          return;
        }
        // The smallest naturally aligned block (at least a page) holding [addr, last].
        let lg2 = 12n;
        while (addr >> lg2 !== last >> lg2) lg2++;
        expect(end - first + 1n).toBe(1n << lg2);
      }),
      { numRuns: 2000 },
    );
  });
});
