/**
 * The checked build: the kernel's PT_WARN_ON() checks (CONFIG_DEBUG_GENERIC_PT)
 * for tables made with `checked` (PtCommonOptions, PtIommuOptions) or
 * GENPT_CHECKED=1 in the environment. Tests and golden replay run checked;
 * production tables skip every check with one test of a boolean.
 *
 * Two kinds, as the kernel uses them:
 * - a check the kernel follows with an errno return (`if (PT_WARN_ON(x))
 *   return -ENXIO`) returns that errno whether checked or not; checked, the
 *   table remembers the check so the op's error names it ({@link ptWarned});
 * - a check the kernel only warns about and continues past is an invariant:
 *   checked, it throws a {@link PtCheckError} naming it, where it failed.
 */
import type { PtCommon } from './common.js';

/** A PT_WARN_ON invariant that failed in a checked table. */
export class PtCheckError extends Error {
  /** The check, as `function: condition` in the kernel's terms. */
  readonly check: string;

  constructor(check: string, detail?: string) {
    super(`PT_WARN_ON(${check})${detail === undefined ? '' : `: ${detail}`}`);
    this.name = 'PtCheckError';
    this.check = check;
  }
}

/** The default of `checked` for new tables: GENPT_CHECKED=1 in the environment. */
export function ptCheckedDefault(): boolean {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> } };
  return g.process?.env?.GENPT_CHECKED === '1';
}

/**
 * An invariant failed: throw (call only when `common.checked`). The stack
 * starts at the caller of `from` (default: of this function), so its first
 * frame is the code that broke the invariant.
 */
export function ptCheckFailed(check: string, detail?: string, from: (...args: never[]) => unknown = ptCheckFailed): never {
  const e = new PtCheckError(check, detail);
  Error.captureStackTrace?.(e, from);
  throw e;
}

/** A check with an errno return fired: remember it for the op's error (checked tables only). */
export function ptWarned(common: PtCommon, check: string): void {
  if (common.checked) common.lastWarning = check;
}
