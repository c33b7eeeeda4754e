/**
 * Deterministic random numbers for the suites (the kernel uses
 * get_random_u32/u64): splitmix64, seeded, so a failure can be replayed.
 */
import { hiOfBig, U64_MAX } from '@genpt/pt-core';

export class Rng {
  private state: bigint;

  constructor(seed: number | bigint) {
    this.state = BigInt(seed) & U64_MAX;
  }

  u64(): bigint {
    this.state = (this.state + 0x9e3779b97f4a7c15n) & U64_MAX;
    let z = this.state;
    z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & U64_MAX;
    z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & U64_MAX;
    return z ^ (z >> 31n);
  }

  u32(): number {
    return hiOfBig(this.u64()) >>> 0;
  }

  /** get_random_u32_below(n): uniform in [0, n) for n <= 2^32. */
  u32Below(n: number): number {
    if (n <= 0) return 0;
    return (hiOfBig(this.u64()) >>> 0) % n;
  }

  /** get_random_u32_inclusive(lo, hi) */
  u32Inclusive(lo: number, hi: number): number {
    return lo + this.u32Below(hi - lo + 1);
  }
}
