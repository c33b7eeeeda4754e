/** Shared test fixtures: a machine, byte patterns, and test doubles of driver steps. */
import { createAmdIommuSystem, ProtectionDomain, type AmdIommuSystem, type AmdIommuSystemOptions, type HwCommand } from '../dist/index.js';

export const RW = 3;
export const R = 1;
export const W = 2;

/** A machine with a small device table (fast to set up). */
export function machine(opts: AmdIommuSystemOptions = {}): AmdIommuSystem {
  return createAmdIommuSystem({ ...opts, driver: { lastBdf: 0xff, ...(opts.driver ?? {}) } });
}

/** Deterministic bytes. */
export function pattern(len: number, seed: number): Uint8Array {
  const out = new Uint8Array(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * A test double of the driver: the next `n` domain flushes (the
 * INVALIDATE_IOMMU_PAGES a sync would send) are silently skipped.
 */
export function skipFlushes(domain: ProtectionDomain, n = 1): { skipped: number } {
  const state = { skipped: 0 };
  const real = ProtectionDomain.prototype.flushPages;
  domain.flushPages = function (this: ProtectionDomain, ...args: Parameters<ProtectionDomain['flushPages']>) {
    if (state.skipped < n) {
      state.skipped++;
      return;
    }
    real.apply(this, args);
  };
  return state;
}

/** Commands the hardware executed after `mark` (a commandLog length). */
export function commandsSince(sys: AmdIommuSystem, mark: number, hw = sys.hw): HwCommand[] {
  return hw.commandLog.slice(mark);
}

export function names(cmds: readonly HwCommand[]): string[] {
  return cmds.map((c) => c.name);
}

export function hex(v: bigint | number): string {
  return '0x' + v.toString(16);
}
