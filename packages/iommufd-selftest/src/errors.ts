/**
 * Errors of the iommufd model: the errno the kernel's ioctl would fail with,
 * named from pt-core's errno table (which holds iommufd's EBUSY, EEXIST,
 * ENOSPC, EMSGSIZE ... too). An IommufdError is a PtError, so a caller can
 * catch both the model's and the page table's errors as one type; page table
 * errors from iommu-ops keep their own class and code.
 */
import { type ErrnoName, isPtError, PtError } from '@genpt/pt-core';

/** An errno name an iommufd ioctl fails with: any of pt-core's. */
export type IommufdErrnoName = ErrnoName;

/** A failed iommufd ioctl or test command, with the kernel's errno. */
export class IommufdError extends PtError {
  constructor(code: IommufdErrnoName, message?: string) {
    super(code, message);
    this.name = 'IommufdError';
  }
}

/** Throw the kernel's errno. */
export function fail(code: IommufdErrnoName, message?: string): never {
  throw new IommufdError(code, message);
}

/**
 * Rethrow a PtError from one of pt-core's argument checks as an
 * IommufdError (with `code` instead of its own when given); anything else
 * is rethrown as it is.
 */
export function rethrowAsIommufd(e: unknown, code?: IommufdErrnoName): never {
  if (isPtError(e) && (code !== undefined || !(e instanceof IommufdError))) {
    const prefix = `${e.code}: `;
    const text = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    throw new IommufdError(code ?? e.code, text);
  }
  throw e;
}

/** The errno of anything the model throws: IommufdError, or a PtError from the page table. */
export function errnoOf(e: unknown): IommufdErrnoName {
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
