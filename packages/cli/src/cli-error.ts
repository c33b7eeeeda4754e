import { isPtError } from '@genpt/pt-core';

/** A usage or input error: printed to stderr with its errno name, exit status 2 (usage) or 1. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly code = 'EINVAL',
    readonly status = 2,
  ) {
    super(message);
  }
}

/** Print an error the way every genpt command does and return its exit status. */
export function reportError(e: unknown): number {
  if (e instanceof CliError) {
    process.stderr.write(`genpt: ${e.code}: ${e.message}\n`);
    return e.status;
  }
  if (isPtError(e)) {
    process.stderr.write(`genpt: ${e.message}\n`);
    return 1;
  }
  // A file the command was given or told to write: Node's own message
  // already starts with the errno name ("ENOENT: no such file ..., open 'x'").
  if (
    e instanceof Error &&
    typeof (e as NodeJS.ErrnoException).code === 'string' &&
    typeof (e as NodeJS.ErrnoException).syscall === 'string'
  ) {
    process.stderr.write(`genpt: ${e.message}\n`);
    return 1;
  }
  throw e;
}
