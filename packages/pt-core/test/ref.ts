/** BigInt reference model for the u64 helpers (tests only). */
import fc from 'fast-check';

export const M64 = (1n << 64n) - 1n;

export function hiOf(b: bigint): number {
  return Number((b >> 32n) & 0xffffffffn) | 0;
}

export function loOf(b: bigint): number {
  return Number(b & 0xffffffffn) | 0;
}

export function big(hi: number, lo: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** The edge values every 64-bit helper is checked at, and their neighbours. */
export const EDGES: bigint[] = (() => {
  const base = [0n, 1n, 1n << 31n, 1n << 32n, 1n << 52n, 1n << 53n, 1n << 63n, M64];
  const out = new Set<bigint>();
  for (const b of base) for (const d of [-1n, 0n, 1n]) if (b + d >= 0n && b + d <= M64) out.add(b + d);
  return [...out];
})();

/** lg2 arguments 0..64. */
export const LG2S = Array.from({ length: 65 }, (_, i) => i);

/** Arbitrary u64 biased toward edges and runs of ones/zeros. */
export const arbU64 = fc.oneof(
  fc.bigInt({ min: 0n, max: M64 }),
  fc.constantFrom(...EDGES),
  fc.integer({ min: 0, max: 64 }).map((n) => (n === 64 ? M64 : (1n << BigInt(n)) - 1n)),
  fc.integer({ min: 0, max: 63 }).map((n) => 1n << BigInt(n)),
);
