/**
 * Run an op script on a table through kunit-port's GoldenSession, the same
 * machinery that replays the kernel's traces, so a script's results are
 * exactly what a golden replay computes. Records every step's result and
 * the driver callbacks it caused, ready to print or to write as a trace.
 */
import { isPtError } from '@genpt/pt-core';
import { dumpTable, type PtIommu } from '@genpt/iommu-ops';
import { GoldenSession, type GoldenFormat, type GoldenStep, type GoldenTrace } from '@genpt/golden';
import { CliError } from './cli-error.js';
import type { NamedConfig } from './configs.js';
import type { OpStep } from './script.js';

/** A table an unmap freed, as it stood before. */
export interface FreedTable {
  level: number;
  path: number[];
  pa: number;
  va: bigint;
  /** Inclusive. */
  vaLast: bigint;
}

export interface StepRecord {
  /** Position in the script's op steps. */
  index: number;
  step: OpStep;
  result: unknown;
  /** change_top / iotlb_sync the step caused, in order. */
  events: GoldenStep[];
  /** With trackFreed: the tables an unmap freed. */
  freed?: FreedTable[];
  /** The step found the table already deinitialised (its result is ENODEV): it could not run. */
  afterDeinit?: boolean;
}

export class ScriptRunner {
  readonly gf: GoldenFormat;
  readonly config: NamedConfig;
  readonly session: GoldenSession;
  readonly records: StepRecord[] = [];
  /** Work out which tables each unmap freed (a dump before each unmap). */
  trackFreed = false;

  constructor(gf: GoldenFormat, config: NamedConfig) {
    this.gf = gf;
    this.config = config;
    try {
      this.session = new GoldenSession(gf, config.config);
    } catch (e) {
      throw new CliError(`config ${config.name}: ${(e as Error).message}`);
    }
  }

  /** The table while it is live (after a successful init and before deinit). */
  get table(): PtIommu | null {
    const t = this.session.table;
    return t?.isLive ? t : null;
  }

  /** Run one step. A failure the op cannot report as a result (use after deinit) is an op failure (exit 1). */
  run(step: OpStep): StepRecord {
    const t = this.session.table;
    if (t === null)
      throw new CliError(`the table failed to initialise (${String(this.session.init.err)})`, String(this.session.init.err), 1);
    const index = this.records.length;
    const dead = !t.isLive && step.op !== 'deinit' && step.op !== 'dump';
    const before = this.trackFreed && step.op === 'unmap' && t.isLive ? tablesByPa(t) : null;
    let out: { result: unknown; events: GoldenStep[] };
    try {
      out = this.session.run(step);
    } catch (e) {
      if (isPtError(e)) throw new CliError(`step ${index} (${step.op}): ${e.message.replace(/^\w+: /, '')}`, e.code, 1);
      throw e;
    }
    const rec: StepRecord = { index, step, result: out.result, events: out.events };
    if (dead) rec.afterDeinit = true;
    if (before !== null) {
      const live = new Set(t.common.mem.allocatedBlocks().map(([pa]) => pa));
      rec.freed = [...before.values()].filter((ft) => !live.has(ft.pa));
    }
    this.records.push(rec);
    return rec;
  }

  /** The run as a genpt-golden/1 trace: driver callbacks before the op that caused them. */
  trace(name: string): GoldenTrace {
    const steps: GoldenStep[] = [];
    for (const r of this.records) steps.push(...r.events, { ...r.step, result: r.result } as GoldenStep);
    return {
      schema: 'genpt-golden/1',
      source: 'genpt run',
      format: this.gf.name,
      name,
      config: this.config.config,
      init: this.session.init,
      steps,
    };
  }
}

function tablesByPa(t: PtIommu): Map<number, FreedTable> {
  return new Map(
    dumpTable(t).tables.map((d) => [
      d.pa,
      { level: d.level, path: d.path, pa: d.pa, va: d.va, vaLast: d.va + (BigInt(d.numItems) << BigInt(d.itemLg2sz)) - 1n },
    ]),
  );
}
