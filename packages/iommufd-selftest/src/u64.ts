/**
 * A u64 argument of the iommufd uAPI (on a 64-bit kernel unsigned long is u64
 * too), read as the ioctls read theirs (uapi-check.ts): a non-negative safe
 * integer or a bigint below 2^64, else EINVAL. The IOAS bookkeeping is not a
 * hot path, so it works in bigint with pt-core's bigint helpers.
 */
import { u64 as u64Field } from './uapi-check.js';

/** A u64 argument as bigint: a non-negative safe integer or a bigint below 2^64, else EINVAL. */
export function u64(v: number | bigint, what = 'value'): bigint {
  return u64Field.read(v, 'u64', what);
}
