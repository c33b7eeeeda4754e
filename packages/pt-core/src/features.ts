/**
 * PT_FEAT_* feature bits, numbered as in Linux 7.0 (include/linux/generic_pt/
 * common.h). Per-format features start at {@link PT_FEAT_FMT_START}.
 */
import { argDescribe } from './arg.js';
import { PtError } from './errno.js';

/** Table memory must be cache-flushed before the walker may read it. */
export const PT_FEAT_DMA_INCOHERENT = 0;
/** The table spans the whole VA range 0..2^64-1. */
export const PT_FEAT_FULL_VA = 1;
/** The top level may grow during map (needs change_top/get_top_lock). */
export const PT_FEAT_DYNAMIC_TOP = 2;
/** Bit max_vasz_lg2-1 sign-extends: a lower and an upper half with a hole between. */
export const PT_FEAT_SIGN_EXTEND = 3;
/** IOTLB invalidation by one IOVA range per operation, gaps allowed. */
export const PT_FEAT_FLUSH_RANGE = 4;
/** Like FLUSH_RANGE, but disjoint ranges are never merged (flush first). */
export const PT_FEAT_FLUSH_RANGE_NO_GAPS = 5;
/** First bit a format may define for itself. */
export const PT_FEAT_FMT_START = 6;

/** Generic feature names (without the PT_FEAT_ prefix), by bit. */
export const GENERIC_FEATURE_NAMES: readonly string[] = [
  'DMA_INCOHERENT',
  'FULL_VA',
  'DYNAMIC_TOP',
  'SIGN_EXTEND',
  'FLUSH_RANGE',
  'FLUSH_RANGE_NO_GAPS',
];

export function bit(n: number): number {
  return (1 << n) >>> 0;
}

/** Names of the bits set in `features`, generic names first, then the format's. */
export function featureNames(features: number, fmtFeatureNames: readonly string[]): string[] {
  const out: string[] = [];
  for (let b = 0; b < 32; b++) {
    if (!(features & bit(b))) continue;
    const name = b < PT_FEAT_FMT_START ? GENERIC_FEATURE_NAMES[b] : fmtFeatureNames[b - PT_FEAT_FMT_START];
    out.push(name ?? `FEAT_${b}`);
  }
  return out;
}

/** Bitmask of feature names (generic or the format's); throws on an unknown name. */
export function featureBits(names: Iterable<string>, fmtFeatureNames: readonly string[]): number {
  let bits = 0;
  for (const raw of names) {
    if (typeof raw !== 'string') throw new PtError('EINVAL', `featureBits: feature ${argDescribe(raw)} is not a name`);
    const name = raw.startsWith('PT_FEAT_') ? raw.slice(8) : raw;
    let b = GENERIC_FEATURE_NAMES.indexOf(name);
    if (b < 0) {
      const f = fmtFeatureNames.indexOf(name);
      if (f < 0) throw new PtError('EINVAL', `unknown feature ${raw}`);
      b = PT_FEAT_FMT_START + f;
    }
    bits |= bit(b);
  }
  return bits >>> 0;
}
