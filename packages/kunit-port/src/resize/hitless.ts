/**
 * The hitless check: while a cut, split or collapse runs, TableMemory's
 * storeHook walks the table with the reference walker after every item
 * store the op makes (and every table freed), and every probe address must
 * translate to the OA and attributes it had before the op, never to a
 * fault, a hole or another OA; a page that was dirty stays dirty.
 */
import type { PtIommu } from '@genpt/iommu-ops';
import { RefWalker, type RefTranslation } from './ref-walker.js';

export class HitlessViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HitlessViolation';
  }
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export class HitlessWatch {
  readonly walker: RefWalker;
  /** Intermediate states checked, over every op watched. */
  states = 0;
  private probes: bigint[] = [];
  private expected: RefTranslation[] = [];

  constructor(readonly t: PtIommu) {
    this.walker = new RefWalker(t);
  }

  /**
   * Run `op` with every mapped probe checked after each store it makes.
   * Probes that are not mapped before the op are ignored.
   */
  run<R>(what: string, probes: Iterable<bigint>, op: () => R): R {
    this.probes = [];
    this.expected = [];
    for (const va of probes) {
      const tr = this.walker.translate(va);
      if (tr.kind === 'leaf') {
        this.probes.push(va);
        this.expected.push(tr);
      }
    }
    const mem = this.t.common.mem;
    const prev = mem.storeHook;
    mem.storeHook = (pa, kind) => this.check(`${what}, after the ${kind} at ${hex(pa)}`);
    try {
      return op();
    } finally {
      mem.storeHook = prev;
    }
  }

  /** Check every probe against what it translated to before the op. */
  check(where: string): void {
    this.states++;
    for (let i = 0; i < this.probes.length; i++) {
      const va = this.probes[i]!;
      const was = this.expected[i] as Extract<RefTranslation, { kind: 'leaf' }>;
      const now = this.walker.translate(va);
      if (now.kind !== 'leaf') {
        const why = now.kind === 'fault' ? `a fault (${now.why})` : 'a hole';
        throw new HitlessViolation(`${where}: VA ${hex(va)} translates to ${why}, was OA ${hex(was.oa)}`);
      }
      if (now.oa !== was.oa) throw new HitlessViolation(`${where}: VA ${hex(va)} translates to OA ${hex(now.oa)}, was ${hex(was.oa)}`);
      if (now.attrs !== was.attrs)
        throw new HitlessViolation(`${where}: VA ${hex(va)} has attributes ${hex(now.attrs)}, was ${hex(was.attrs)}`);
      if (was.dirty && !now.dirty) throw new HitlessViolation(`${where}: VA ${hex(va)} lost its dirty state`);
    }
  }
}

/**
 * Probe VAs for an op over [first, last]: every smallest page of it when
 * that is at most `limit` pages, else the first and last `limit / 4` pages,
 * the pages on both sides of every 2^alignLg2 boundary inside, and
 * `extra` (cut points).
 */
export function probesFor(first: bigint, last: bigint, pgLg2: number, alignLg2: number, extra: bigint[] = [], limit = 512): bigint[] {
  const pg = 1n << BigInt(pgLg2);
  const out = new Set<bigint>();
  const pages = (last - first + 1n) / pg;
  if (pages <= BigInt(limit)) {
    for (let va = first; va <= last; va += pg) out.add(va);
  } else {
    const edge = BigInt(limit >> 2);
    for (let i = 0n; i < edge; i++) {
      out.add(first + i * pg);
      out.add(last + 1n - (i + 1n) * pg);
    }
    const step = 1n << BigInt(Math.max(alignLg2, pgLg2));
    for (let b = (first + step - 1n) & ~(step - 1n); b <= last && out.size < 4 * limit; b += step) {
      out.add(b);
      if (b - pg >= first) out.add(b - pg);
    }
  }
  for (const e of extra) {
    for (const va of [e - pg, e, e + pg]) if (va >= first && va <= last) out.add(va & ~(pg - 1n));
  }
  return [...out];
}
