import type { AnyPtFormat } from '@genpt/pt-core';
import type { GoldenFormat } from './session.js';

/** A name -> format map for the replayer from golden format entries. */
export function goldenFormats(...entries: Array<GoldenFormat | [string, AnyPtFormat]>): Map<string, GoldenFormat> {
  const m = new Map<string, GoldenFormat>();
  for (const e of entries) {
    const gf = Array.isArray(e) ? { name: e[0], format: e[1] } : e;
    m.set(gf.name, gf);
  }
  return m;
}
