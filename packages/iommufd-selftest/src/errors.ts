/**
 * Errors of the iommufd model: the errno the kernel's ioctl would fail with,
 * named from pt-core's errno table (which holds iommufd's EBUSY, EEXIST,
 * ENOSPC, EMSGSIZE ... too). Page table errors from iommu-ops keep their
 * code; only u64 arguments are mapped (see u64.ts).
 */
import { Errno, isPtError, type ErrnoName } from '@genpt/pt-core';

/** An errno name an iommufd ioctl fails with: any of pt-core's. */
export type IommufdErrnoName = ErrnoName;

/** A failed iommufd ioctl or test command, with the kernel's errno. */
export class IommufdError extends Error {
  readonly code: IommufdErrnoName;
  readonly errno: number;

  constructor(code: IommufdErrnoName, message?: string) {
    super(message === undefined ? code : `${code}: ${message}`);
    this.name = 'IommufdError';
    this.code = code;
    this.errno = Errno[code];
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
