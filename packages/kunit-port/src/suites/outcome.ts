/** What the bad-input, corrupt, strict and fuzz suites observe of a call and of a table. */
import { isPtError } from '@genpt/pt-core';
import { dumpTable, type PtIommu } from '@genpt/iommu-ops';

export interface Outcome {
  /** 'ok', the PtError's errno name, or 'untyped' for any other exception. */
  code: string;
  message: string;
  /** A failed map's `mapped`, when it carries one. */
  mapped?: bigint;
  /** The untyped exception. */
  error?: unknown;
}

/** Run fn and say how it ended. */
export function outcome(fn: () => unknown): Outcome {
  try {
    fn();
    return { code: 'ok', message: '' };
  } catch (e) {
    if (!isPtError(e)) return { code: 'untyped', message: '', error: e };
    return { code: e.code, message: e.message, ...(e.mapped === undefined ? {} : { mapped: BigInt(e.mapped) }) };
  }
}

/** Like outcome, but an untyped exception propagates (the test fails on it as it is). */
export function typedOutcome(fn: () => unknown): Outcome {
  const r = outcome(fn);
  if (r.code === 'untyped') throw r.error;
  return r;
}

/** The table's dump as a string, to compare before and after a call. */
export function snapshot(t: PtIommu): string {
  return JSON.stringify(dumpTable(t), (_k, v: unknown) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v));
}
