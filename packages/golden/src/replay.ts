/**
 * Golden replay: run a kernel trace step by step and compare every result,
 * every driver callback (in order) and every dump with what the kernel
 * produced — the TypeScript counterpart of the kernel's compare test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { GoldenSession, type GoldenFormat } from './session.js';
import { isEventStep, type GoldenDump, type GoldenStep, type GoldenTrace } from './schema.js';

export interface ReplayMismatch {
  /** Index in `steps`, or -1 for init. */
  step: number;
  op: string;
  expected: unknown;
  actual: unknown;
}

export type ReplayStatus = 'passed' | 'failed' | 'skipped';

export interface ReplayOutcome {
  file?: string;
  name: string;
  format: string;
  status: ReplayStatus;
  /** Why a file was skipped (its format is not installed). */
  reason?: string;
  mismatch?: ReplayMismatch;
  steps: number;
}

/** Deep equality of JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => jsonEqual(v, bb[i]));
  }
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as never)[k], (b as never)[k]));
}

/** Replay one trace against the formats given (by trace format name). */
export function replayTrace(trace: GoldenTrace, formats: ReadonlyMap<string, GoldenFormat>): ReplayOutcome {
  const base = { name: trace.name, format: trace.format, steps: trace.steps.length };
  const gf = formats.get(trace.format);
  if (gf === undefined) return { ...base, status: 'skipped', reason: `format ${trace.format} is not installed` };

  const session = new GoldenSession(gf, trace.config);
  const io = gf.ioPgtable === true;
  const init = io ? ioPgtableInit(session, gf) : session.init;
  if (!jsonEqual(init, trace.init)) {
    return { ...base, status: 'failed', mismatch: { step: -1, op: 'init', expected: trace.init, actual: init } };
  }
  if (session.table === null) return { ...base, status: 'passed' };

  let pending: GoldenStep[] = [];
  let tlb: IoTlbStep[] = [];
  for (let i = 0; i < trace.steps.length; i++) {
    const step = trace.steps[i]!;
    // io-pgtable's TLB callbacks (tlb_add_page, tlb_flush_walk, tlb_flush_all):
    // genpt reports the same through the gather and iotlb_sync; checked
    // against the op they stand before (ioPgtableTlbProblem).
    if (io && step.op.startsWith('tlb_')) {
      tlb.push(step as unknown as IoTlbStep);
      continue;
    }
    if (isEventStep(step)) {
      pending.push(step);
      continue;
    }
    let actual: { result: unknown; events: GoldenStep[] };
    try {
      actual = session.run(step);
    } catch (e) {
      return { ...base, status: 'failed', mismatch: { step: i, op: step.op, expected: step.result, actual: `threw ${String(e)}` } };
    }
    if (io) {
      const problem = ioPgtableTlbProblem(step.op, actual, tlb);
      tlb = [];
      if (problem !== '') {
        return {
          ...base,
          status: 'failed',
          mismatch: { step: i, op: `${step.op} (io-pgtable TLB callbacks before it)`, expected: problem, actual: actual.events },
        };
      }
      // The syncs were the TLB callbacks' counterpart, checked above.
      actual.events = actual.events.filter((e) => e.op !== 'iotlb_sync');
    }
    if (!jsonEqual(actual.events, pending)) {
      return {
        ...base,
        status: 'failed',
        mismatch: { step: i, op: `${step.op} (driver callbacks before it)`, expected: pending, actual: actual.events },
      };
    }
    pending = [];
    if (io) actual.result = ioPgtableResult(step.op, actual.result, session);
    if (!jsonEqual(actual.result, step.result)) {
      return { ...base, status: 'failed', mismatch: { step: i, op: step.op, expected: step.result, actual: actual.result } };
    }
  }
  if (pending.length !== 0) {
    return {
      ...base,
      status: 'failed',
      mismatch: { step: trace.steps.length, op: 'end of trace', expected: pending, actual: [] },
    };
  }
  return { ...base, status: 'passed' };
}

/** An io-pgtable TLB callback step (../golden-iopgtable's README). */
interface IoTlbStep {
  op: 'tlb_add_page' | 'tlb_flush_walk' | 'tlb_flush_all';
  iova?: string;
  size?: string;
  granule?: string;
}

/**
 * The io-pgtable TLB callbacks an op made, against what genpt reported for
 * it: each table io-pgtable freed (tlb_flush_walk) is a freed table page of
 * genpt's, and every range io-pgtable invalidated lies inside the range
 * genpt asks to flush (a map's iotlb_sync when it replaces a table, an
 * unmap's gather). '' when they agree.
 */
function ioPgtableTlbProblem(op: string, actual: { result: unknown; events: GoldenStep[] }, tlb: readonly IoTlbStep[]): string {
  const ranges: Array<[bigint, bigint, number]> = [];
  if (op === 'unmap') {
    const g = (actual.result as { gather?: { start: string; end: string; freedTablePages: number } }).gather;
    if (g !== undefined && BigInt(g.start) <= BigInt(g.end)) ranges.push([BigInt(g.start), BigInt(g.end), g.freedTablePages]);
  }
  for (const e of actual.events) {
    if (e.op === 'iotlb_sync') ranges.push([BigInt(e.start), BigInt(e.end), e.freedTablePages]);
  }
  const walks = tlb.filter((s) => s.op === 'tlb_flush_walk').length;
  const freed = ranges.reduce((n, r) => n + r[2], 0);
  if (walks !== freed) return `${walks} tables freed (tlb_flush_walk), genpt freed ${freed}`;
  for (const s of tlb) {
    if (s.op === 'tlb_flush_all') continue;
    const start = BigInt(s.iova!);
    const last = start + BigInt(s.op === 'tlb_flush_walk' ? s.size! : s.granule!) - 1n;
    if (!ranges.some(([a, b]) => a <= start && last <= b)) {
      return `${s.op} of [0x${start.toString(16)}, 0x${last.toString(16)}] inside a range genpt flushes`;
    }
  }
  return '';
}

/** What io-pgtable's init reports: the page sizes and the input and output address widths. */
function ioPgtableInit(session: GoldenSession, gf: GoldenFormat): unknown {
  const r = session.init as { err: unknown; pgsizeBitmap?: string; maxVaszLg2?: number; maxOaszLg2?: number };
  if (r.err !== 0) return { err: r.err };
  const extra = gf.ioPgtableInitExtra?.(session.table!) ?? {};
  return { err: 0, pgsizeBitmap: r.pgsizeBitmap, ias: r.maxVaszLg2, oas: r.maxOaszLg2, ...extra };
}

/** A step's result in the shape io-pgtable's traces record it. */
function ioPgtableResult(op: string, result: unknown, session: GoldenSession): unknown {
  // No gather in io-pgtable: only what was unmapped.
  if (op === 'unmap') return { unmapped: (result as { unmapped: string }).unmapped };
  // Its harness counts the pages left allocated under its own name.
  if (op === 'deinit') return { leakedIommuPages: (result as { leakedPages: number }).leakedPages };
  if (op !== 'dump') return result;
  // Its walker gives table VAs without the upper half's prefix (TTBR1).
  const d = result as GoldenDump;
  const mask = (1n << BigInt(session.table!.common.maxVaszLg2)) - 1n;
  return { ...d, tables: d.tables.map((tb) => ({ ...tb, va: `0x${(BigInt(tb.va) & mask).toString(16)}` })) };
}

/** Every *.json under `dir`, recursively, sorted. */
export function findGoldenFiles(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith('.json')) out.push(p);
    }
  };
  if (statSync(dir).isDirectory()) walk(dir);
  else out.push(dir);
  return out;
}

export function loadGoldenTrace(file: string): GoldenTrace {
  const trace = JSON.parse(readFileSync(file, 'utf8')) as GoldenTrace;
  if (trace.schema !== 'genpt-golden/1') throw new Error(`${file}: schema ${String(trace.schema)} is not genpt-golden/1`);
  return trace;
}

/** Replay every trace file under `dir`. */
export function replayDir(dir: string, formats: ReadonlyMap<string, GoldenFormat>): ReplayOutcome[] {
  return findGoldenFiles(dir).map((file) => ({ ...replayTrace(loadGoldenTrace(file), formats), file }));
}

/** "N passed, M failed, K skipped" */
export function summarize(outcomes: readonly ReplayOutcome[]): string {
  const n = (s: ReplayStatus) => outcomes.filter((o) => o.status === s).length;
  return `${n('passed')} passed, ${n('failed')} failed, ${n('skipped')} skipped`;
}
