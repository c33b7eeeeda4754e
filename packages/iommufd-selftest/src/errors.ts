/**
 * Errors of the iommufd model: the errno the kernel's ioctl would fail with.
 * A superset of pt-core's errno names (iommufd also returns EBUSY, EEXIST,
 * ENOSPC, EMSGSIZE ...). Page table errors from iommu-ops keep their code.
 */
import { isPtError } from '@genpt/pt-core';

export const IommufdErrno = {
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

export type IommufdErrnoName = keyof typeof IommufdErrno;

/** A failed iommufd ioctl or test command, with the kernel's errno. */
export class IommufdError extends Error {
  readonly code: IommufdErrnoName;
  readonly errno: number;

  constructor(code: IommufdErrnoName, message?: string) {
    super(message === undefined ? code : `${code}: ${message}`);
    this.name = 'IommufdError';
    this.code = code;
    this.errno = IommufdErrno[code];
  }
}

/** Throw the kernel's errno. */
export function fail(code: IommufdErrnoName, message?: string): never {
  throw new IommufdError(code, message);
}

/** The errno of anything the model throws: IommufdError, or a PtError from the page table. */
export function errnoOf(e: unknown): IommufdErrnoName {
  if (e instanceof IommufdError) return e.code;
  if (isPtError(e)) return e.code;
  throw e;
}

/** Run fn and return 0 or the errno name it failed with (the C tests' `rc`). */
export function rcOf(fn: () => unknown): 0 | IommufdErrnoName {
  try {
    fn();
    return 0;
  } catch (e) {
    return errnoOf(e);
  }
}
