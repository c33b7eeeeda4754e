/**
 * A u64 argument of the iommufd uAPI (on a 64-bit kernel unsigned long is u64
 * too), checked by pt-core's validation. The ioctls fail every bad value with
 * EINVAL, including a bigint past 2^64 that pt-core reports as EOVERFLOW. The
 * IOAS bookkeeping is not a hot path, so it works in bigint with pt-core's
 * bigint helpers.
 */
import { u64Invalid } from '@genpt/pt-core';
import { fail } from './errors.js';

/** A u64 argument as bigint: a non-negative safe integer or a bigint below 2^64, else EINVAL. */
export function u64(v: number | bigint, what = 'value'): bigint {
  if (u64Invalid(v) !== undefined) fail('EINVAL', `${what} is not a u64`);
  return BigInt(v);
}
