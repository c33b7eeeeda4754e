/**
 * Deterministic random numbers for the suites (the kernel uses
 * get_random_u32/u64): splitmix64, seeded, so a failure can be replayed.
 */
const M64 = (1n << 64n) - 1n;

export class Rng {
  private state: bigint;

  constructor(seed: number | bigint) {
    this.state = BigInt(seed) & M64;
  }

  u64(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & M64;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
    return z ^ (z >> 31n);
  }

  u32(): number {
    return Number(this.u64() >> 32n);
  }

  /** get_random_u32_below(n): uniform in [0, n) for n <= 2^32. */
  u32Below(n: number): number {
    if (n <= 0) return 0;
    return Number((this.u64() >> 32n) % BigInt(n));
  }

  /** get_random_u32_inclusive(lo, hi) */
  u32Inclusive(lo: number, hi: number): number {
    return lo + this.u32Below(hi - lo + 1);
  }
}
