/**
 * Run an op script on a table through kunit-port's GoldenSession, the same
 * machinery that replays the kernel's traces, so a script's results are
 * exactly what a golden replay computes. Records every step's result and
 * the driver callbacks it caused, ready to print or to write as a trace.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { isPtError, TableMemory } from '@genpt/pt-core';
import { dumpTable, type PtIommu, type PtPreserveDescriptor } from '@genpt/iommu-ops';
import { GoldenSession, type GoldenFormat, type GoldenStep, type GoldenTrace } from '@genpt/golden';
import { CliError } from './cli-error.js';
import type { NamedConfig } from './configs.js';
import type { KhoFiles, OpStep } from './script.js';

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
  /** preserve and restore: the files used, and why a restore was refused. */
  kho?: KhoFiles & { reason?: string };
}

export class ScriptRunner {
  readonly gf: GoldenFormat;
  readonly config: NamedConfig;
  readonly session: GoldenSession;
  readonly records: StepRecord[] = [];
  /** Work out which tables each unmap freed (a dump before each unmap). */
  trackFreed = false;
  /** The last preserve's descriptor (what a restore without one adopts). */
  private lastDescriptor: PtPreserveDescriptor | undefined;

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
    const files = (step.op === 'preserve' || step.op === 'restore') && t.isLive ? khoFiles(step) : undefined;
    try {
      if (files !== undefined && step.op === 'restore') {
        const rec = this.restore(index, step, files);
        this.records.push(rec);
        return rec;
      }
      out = this.session.run(step);
    } catch (e) {
      if (isPtError(e)) throw new CliError(`step ${index} (${step.op}): ${e.message.replace(/^\w+: /, '')}`, e.code, 1);
      throw e;
    }
    const rec: StepRecord = { index, step, result: out.result, events: out.events };
    if (dead) rec.afterDeinit = true;
    if (files !== undefined && step.op === 'preserve') {
      const r = out.result as { err: unknown; descriptor?: PtPreserveDescriptor };
      rec.step = { op: 'preserve' };
      rec.kho = files;
      if (r.descriptor !== undefined) {
        this.lastDescriptor = r.descriptor;
        if (files.file !== undefined) writeFileSync(files.file, JSON.stringify(r.descriptor, null, 2) + '\n');
      }
    }
    if (before !== null) {
      const live = new Set(t.common.mem.allocatedBlocks().map(([pa]) => pa));
      rec.freed = [...before.values()].filter((ft) => !live.has(ft.pa));
    }
    this.records.push(rec);
    return rec;
  }

  /**
   * A restore step: the descriptor inline, from a file or the last
   * preserve's; in the table's memory, or with `image` in fresh memory
   * loaded from that file (whatever the restore does not adopt is freed).
   */
  private restore(index: number, step: OpStep & { op: 'restore' }, files: KhoFiles): StepRecord {
    let d = (step as { descriptor?: PtPreserveDescriptor }).descriptor;
    if (files.descriptorFile !== undefined) d = readJson(files.descriptorFile, 'descriptor') as PtPreserveDescriptor;
    d ??= this.lastDescriptor;
    if (d === undefined)
      throw new CliError(`step ${index} (restore): no descriptor: give "descriptor" (an object or a file) or preserve first`);
    let mem: TableMemory | undefined;
    if (files.image !== undefined) {
      const bytes = readFile(files.image, 'image');
      const basePa = (d as { basePa?: unknown }).basePa;
      if (typeof basePa !== 'number' || !Number.isSafeInteger(basePa) || basePa < 0 || basePa % 4096 !== 0) {
        throw new CliError(`step ${index} (restore): the descriptor's basePa (where the image starts) must be a 4 KiB aligned address`);
      }
      mem = TableMemory.fromImage(bytes, { basePa });
    }
    const { result, reason } = this.session.restore(d, mem);
    if (mem !== undefined && result.err === 0) mem.releaseReserved();
    const rec: StepRecord = { index, step: { op: 'restore', descriptor: d }, result, events: [], kho: { ...files, reason } };
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

function khoFiles(step: OpStep): KhoFiles {
  const x = step as KhoFiles;
  const out: KhoFiles = {};
  if (x.file !== undefined) out.file = x.file;
  if (x.image !== undefined) out.image = x.image;
  if (x.descriptorFile !== undefined) out.descriptorFile = x.descriptorFile;
  return out;
}

function readFile(file: string, what: string): Uint8Array {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new CliError(`cannot read the ${what} ${file}: ${(e as Error).message}`, 'ENOENT');
  }
}

function readJson(file: string, what: string): unknown {
  const text = new TextDecoder().decode(readFile(file, what));
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new CliError(`the ${what} ${file} is not JSON: ${(e as Error).message}`);
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
