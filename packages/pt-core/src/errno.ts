/**
 * Linux errno values used by the page table code and its callers (the
 * iommufd model's ioctls included). Functions on
 * the hot path return negative errno numbers like the kernel does; the public
 * API turns them into a thrown {@link PtError}.
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  ENOSPC: 28,
  ERANGE: 34,
  EDEADLK: 35,
  EBADE: 52,
  EOVERFLOW: 75,
  EBADFD: 77,
  EMSGSIZE: 90,
  EPROTOTYPE: 91,
  EOPNOTSUPP: 95,
  EADDRINUSE: 98,
} as const;

export type ErrnoName = keyof typeof Errno;

const namesByNumber = new Map<number, ErrnoName>((Object.keys(Errno) as ErrnoName[]).map((k) => [Errno[k], k]));

/** Name of a positive or negative errno number, e.g. -22 -> "EINVAL". */
export function errnoName(errno: number): ErrnoName {
  const name = namesByNumber.get(Math.abs(errno));
  if (name === undefined) throw new RangeError(`unknown errno ${errno}`);
  return name;
}

/**
 * A failed page table operation. `code` is the kernel's errno name and
 * `errno` its (positive) number, as in Node's own system errors. Operations
 * that report partial progress (map) attach it in `mapped`.
 */
export class PtError extends Error {
  readonly code: ErrnoName;
  readonly errno: number;
  /** Bytes of VA already mapped when a map failed (the kernel's `*mapped`). */
  readonly mapped: number | bigint | undefined;

  constructor(code: ErrnoName, message?: string, mapped?: number | bigint) {
    super(message === undefined ? code : `${code}: ${message}`);
    this.name = 'PtError';
    this.code = code;
    this.errno = Errno[code];
    this.mapped = mapped;
  }

  /** Build from a negative (kernel style) or positive errno number. */
  static fromErrno(errno: number, message?: string, mapped?: number | bigint): PtError {
    return new PtError(errnoName(errno), message, mapped);
  }
}

/** True if `e` is a {@link PtError}, optionally with the given code. */
export function isPtError(e: unknown, code?: ErrnoName): e is PtError {
  return e instanceof PtError && (code === undefined || e.code === code);
}
