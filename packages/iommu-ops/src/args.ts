/**
 * Argument checks and error making for the public methods: every method
 * validates its arguments here before anything is touched, and turns a
 * walk's negative errno into a PtError (naming the kernel check that fired,
 * in checked tables).
 */
import {
  argBits,
  argDescribe,
  argInt,
  Errno,
  IOMMU_PROT_MASK,
  PtError,
  u64ShlHi,
  u64ShlLo,
  u64ShrHi,
  u64ShrLo,
  u64Split,
  type PtCommon,
  type U64,
  type U64Pair,
} from '@genpt/pt-core';
import { IommuDirtyBitmap } from './dirty.js';
import { IommuIotlbGather } from './gather.js';

/** prot must be a u32 of IOMMU_* bits (EINVAL): 2^32 + 3 is not read/write. */
export function checkProt(prot: number, where = 'map'): void {
  argBits(prot, IOMMU_PROT_MASK, where, 'prot');
}

/** pgsize * pgcount into `out`, for the *_pages forms; pgsize must be a power of two. */
export function pagesLen(pgsize: U64, pgcount: U64, out: U64Pair): void {
  u64Split(pgsize, out, 'pgsize');
  const hi = out.hi;
  const lo = out.lo;
  if ((hi === 0 && (lo === 0 || (lo & (lo - 1)) !== 0)) || (hi !== 0 && (lo !== 0 || (hi & (hi - 1)) !== 0))) {
    throw new PtError('EINVAL', `pgsize ${argDescribe(pgsize)} is not a power of two`);
  }
  const lg2 = hi !== 0 ? 63 - Math.clz32(hi) : 31 - Math.clz32(lo);
  u64Split(pgcount, out, 'pgcount');
  // pgcount << lg2 must fit in 64 bits
  if ((u64ShrHi(out.hi, out.lo, 64 - lg2) | u64ShrLo(out.hi, out.lo, 64 - lg2)) !== 0) {
    throw new PtError('EOVERFLOW', 'pgsize * pgcount does not fit in 64 bits');
  }
  out.set(u64ShlHi(out.hi, out.lo, lg2), u64ShlLo(out.hi, out.lo, lg2));
}

export function checkGather(gather: unknown): asserts gather is IommuIotlbGather {
  if (!(gather instanceof IommuIotlbGather)) throw new PtError('EINVAL', 'gather must be an IommuIotlbGather');
}

export function checkDirtyArgs(flags: number, dirty: unknown): asserts dirty is IommuDirtyBitmap {
  argInt(flags, 0, 1, 'read_and_clear_dirty', 'flags');
  if (!(dirty instanceof IommuDirtyBitmap)) throw new PtError('EINVAL', 'dirty must be an IommuDirtyBitmap');
}

/** The PtError for a walk's negative errno; in checked tables it names the kernel check that fired. */
export function opError(common: PtCommon, errno: number, what: string, mapped?: U64): PtError {
  const fault = common.lastFault;
  if (fault !== '') {
    common.lastFault = '';
    if (errno === -Errno.EFAULT) return PtError.fromErrno(errno, `${what}: ${fault}`, mapped);
  }
  const check = common.lastWarning;
  if (check !== '') common.lastWarning = '';
  return PtError.fromErrno(errno, check === '' ? what : `${what} (PT_WARN_ON ${check})`, mapped);
}
