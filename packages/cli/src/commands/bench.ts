/** genpt bench: the seed's performance table, new against old, and against the kernel's C. */
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { KERNEL_REFERENCE, SEED_MIN_PERCENT } from '../bench/kernel-reference.js';
import { measureScale, SCALE_SHAPES, type ScaleRow } from '../bench/scale.js';
import { BENCH_FORMATS, BENCH_OA_BATCH, measureRow, median, medianRow, SHAPES, type SeedRow, type TimingOptions } from '../bench/seed.js';
import { benchSvg } from '../bench/svg.js';
import { iovaToPhysLeaves, measureIovaToPhys, type IovaToPhysRow } from '../bench/iova-to-phys.js';
import { measurePair, PAIR_SHAPES, type PairOptions, type PairRow } from '../bench/pairs.js';
import { BENCH_TABLES, makeBenchTable } from '../bench/tables.js';
import { measureLiveOps, type LiveOpRow } from '../bench/live-ops.js';
import { CliError } from '../cli-error.js';
import { Progress } from '../progress.js';

export const benchHelp = `Usage: genpt bench [options]

Reproduce the seed's benchmark: iommu map and unmap at 4 KiB x1, 4 KiB x256
and 2 MiB x256 (one call each) for AMDv1 and AMDv2 (x86_64) tables whose
tables are already present, iommupt (new) against an io-pgtable-style
baseline (old: one walk from the top per page) building the same table.
Prints the seed's layout, then the new side with the format's full page-size
bitmap against the kernel's own C; then, for every format (each in the
config the kernel was timed with where it was), map+unmap pairs and
iova_to_phys timed as ../shared/kernel-bench timed the kernel (one clock
read around an untimed loop) against the kernel's figures; then the scale
rows; then the live-table ops (cut, split, collapse, read_and_clear_dirty,
preserve/restore of 64 GiB, the AMD IOMMU model's DMA translation).

Options:
      --json         print the rows as JSON
      --svg FILE     also draw the new/old bars per row and each row's ratio to the kernel into FILE
      --runs N       repeat the measurement N times and report medians (default 3)
      --samples N    timed batches per measurement (default 400)
      --quick        fewer samples and runs (a smoke run, numbers are rough)
      --no-scale     skip the 64 GiB / 1 TiB scale rows
      --no-kernel    skip the every-format pair and iova_to_phys rows
      --no-ops       skip the live-table op rows
  -h, --help         show this help
`;

interface JsonRow {
  format: string;
  op: 'map' | 'unmap';
  pgsizeLg2: number;
  pgcount: number;
  newAvgNs: number;
  newMinNs: number;
  oldAvgNs: number;
  oldMinNs: number;
  minPercent: number;
  seedMinPercent: number;
  mapRangeAvgNs: number;
  mapRangeMinNs: number;
  kernelAvgNs: number;
  kernelMinNs: number;
  /** unmap rows: unmapRange into an OA batch, the same table and ranges as mapRange*. */
  oaBatchAvgNs?: number;
  oaBatchMinNs?: number;
}

function pct(newMin: number, oldMin: number): number {
  return ((oldMin - newMin) / oldMin) * 100;
}

function shapeText(r: { pgsizeLg2: number; pgcount: number }): string {
  return r.pgcount === 1 ? `2^${r.pgsizeLg2}` : `${r.pgcount}*2^${r.pgsizeLg2}`;
}

export function jsonRows(rows: readonly SeedRow[]): JsonRow[] {
  const out: JsonRow[] = [];
  for (const op of ['map', 'unmap'] as const) {
    for (const r of rows) {
      const n = op === 'map' ? [r.newT.mapAvg, r.newT.mapMin] : [r.newT.unmapAvg, r.newT.unmapMin];
      const o = op === 'map' ? [r.oldT.mapAvg, r.oldT.mapMin] : [r.oldT.unmapAvg, r.oldT.unmapMin];
      const m = op === 'map' ? [r.rangeT.mapAvg, r.rangeT.mapMin] : [r.rangeT.unmapAvg, r.rangeT.unmapMin];
      const k = KERNEL_REFERENCE.find((x) => x.format === r.format && x.pgsizeLg2 === r.pgsizeLg2 && x.pgcount === r.pgcount)!;
      out.push({
        format: r.format,
        op,
        pgsizeLg2: r.pgsizeLg2,
        pgcount: r.pgcount,
        newAvgNs: round(n[0]!),
        newMinNs: round(n[1]!),
        oldAvgNs: round(o[0]!),
        oldMinNs: round(o[1]!),
        minPercent: round(pct(n[1]!, o[1]!)),
        seedMinPercent: SEED_MIN_PERCENT[`${r.format} ${op} ${r.pgsizeLg2}x${r.pgcount}`]!,
        mapRangeAvgNs: round(m[0]!),
        mapRangeMinNs: round(m[1]!),
        kernelAvgNs: op === 'map' ? k.mapAvg : k.unmapAvg,
        kernelMinNs: op === 'map' ? k.mapMin : k.unmapMin,
        ...(op === 'unmap' ? { oaBatchAvgNs: round(r.oasT.unmapAvg), oaBatchMinNs: round(r.oasT.unmapMin) } : {}),
      });
    }
  }
  return out;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}

/** The seed's table layout. */
export function seedTable(rows: readonly JsonRow[]): string {
  const lines: string[] = [];
  for (const op of ['map', 'unmap'] as const) {
    lines.push(`iommu_${op}(): pgsz ,avg new,old ns, min new,old ns , min % (+ve is better)`);
    let last = '';
    for (const r of rows.filter((x) => x.op === op)) {
      const label = r.format === 'amdv1' ? 'AMDV1' : 'AMDv2';
      const tag = label !== last ? ` (${label})` : '';
      last = label;
      lines.push(
        `${shapeText(r)}, ${r.newAvgNs.toFixed(0)},${r.oldAvgNs.toFixed(0)} , ${r.newMinNs.toFixed(0)},${r.oldMinNs.toFixed(0)} , ${r.minPercent.toFixed(2)}${tag}`,
      );
    }
  }
  return lines.join('\n') + '\n';
}

function kernelTable(rows: readonly JsonRow[]): string {
  const lines = [
    "new with the format's full page-size bitmap (Linux 7.0 map_range/unmap_range) against the kernel's C (same machine kind):",
    'format  op     pgsz       genpt avg,min ns   kernel avg,min ns   avg ratio',
  ];
  for (const r of rows) {
    lines.push(
      `${r.format.padEnd(7)} ${r.op.padEnd(6)} ${shapeText(r).padEnd(10)} ${`${r.mapRangeAvgNs.toFixed(0)},${r.mapRangeMinNs.toFixed(0)}`.padStart(16)}   ${`${r.kernelAvgNs},${r.kernelMinNs}`.padStart(17)}   ${(r.mapRangeAvgNs / r.kernelAvgNs).toFixed(2)}x`,
    );
  }
  return lines.join('\n') + '\n';
}

function oaBatchTable(rows: readonly JsonRow[]): string {
  const lines = [
    `unmap_range into an OA batch (${BENCH_OA_BATCH} runs) against plain unmap_range, full page-size bitmap:`,
    'format  pgsz       plain avg,min ns   OA batch avg,min ns   avg ratio',
  ];
  for (const r of rows) {
    if (r.op !== 'unmap' || r.oaBatchAvgNs === undefined) continue;
    lines.push(
      `${r.format.padEnd(7)} ${shapeText(r).padEnd(10)} ${`${r.mapRangeAvgNs.toFixed(0)},${r.mapRangeMinNs.toFixed(0)}`.padStart(16)}   ${`${r.oaBatchAvgNs.toFixed(0)},${r.oaBatchMinNs!.toFixed(0)}`.padStart(19)}   ${(r.oaBatchAvgNs / r.mapRangeAvgNs).toFixed(2)}x`,
    );
  }
  return lines.join('\n') + '\n';
}

function scaleTable(rows: readonly ScaleRow[], seed: readonly JsonRow[]): string {
  const lines = [
    'scale: one call each, tables allocated and freed by it',
    'format  op     pages          total ms   ns/page   vs 256-page row   table pages (min)   peak RSS',
  ];
  for (const r of rows) {
    const ref = seed.find((s) => s.format === r.format && s.op === r.op && s.pgsizeLg2 === r.pgsizeLg2 && s.pgcount === 256);
    const per256 = ref ? ref.newAvgNs / 256 : NaN;
    lines.push(
      `${r.format.padEnd(7)} ${r.op.padEnd(6)} ${`${r.pgcount}*2^${r.pgsizeLg2}`.padEnd(14)} ${r.totalMs.toFixed(1).padStart(8)}   ${r.nsPerPage.toFixed(2).padStart(7)}   ${(r.nsPerPage / per256).toFixed(2).padStart(15)}x   ${`${r.tablePages} (${r.minTablePages})`.padStart(17)}   ${r.peakRssMiB.toFixed(0)} MiB`,
    );
  }
  return lines.join('\n') + '\n';
}

function ratio(ns: number, kernel: number | null): string {
  return kernel === null ? '-' : `${(ns / kernel).toFixed(2)}x`;
}

function pairTable(rows: readonly PairRow[]): string {
  const lines = [
    'map_range+unmap_range pairs, timed as the kernel was (one clock read around an untimed loop; every format loaded):',
    'format   config       pgsz       genpt ns   kernel ns   ratio',
  ];
  for (const r of rows) {
    lines.push(
      `${r.format.padEnd(8)} ${r.config.padEnd(12)} ${shapeText(r).padEnd(10)} ${r.pairNs.toFixed(1).padStart(8)}   ${(r.kernelPairNs?.toFixed(1) ?? '-').padStart(9)}   ${ratio(r.pairNs, r.kernelPairNs)}`,
    );
  }
  return lines.join('\n') + '\n';
}

function iovaTable(rows: readonly IovaToPhysRow[]): string {
  const lines = [
    'iova_to_phys at random addresses of 1 GiB of leaves (timed as the kernel was):',
    'format   config       leaf   genpt ns   kernel ns   ratio',
  ];
  for (const r of rows) {
    lines.push(
      `${r.format.padEnd(8)} ${r.config.padEnd(12)} ${`2^${r.leafLg2}`.padEnd(6)} ${r.ns.toFixed(1).padStart(8)}   ${(r.kernelNs?.toFixed(1) ?? '-').padStart(9)}   ${ratio(r.ns, r.kernelNs)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Every row with a kernel figure, as genpt / kernel (what --svg draws against the 1.5x target). */
function kernelRatios(
  json: readonly JsonRow[],
  kernel: { pairs: PairRow[]; iova: IovaToPhysRow[] },
): Array<{ label: string; ratio: number }> {
  const out: Array<{ label: string; ratio: number }> = [];
  for (const r of json) out.push({ label: `${r.op} ${r.format} ${shapeText(r)}`, ratio: r.mapRangeAvgNs / r.kernelAvgNs });
  for (const r of kernel.pairs) {
    if (r.kernelPairNs !== null) out.push({ label: `pair ${r.format} ${shapeText(r)}`, ratio: r.pairNs / r.kernelPairNs });
  }
  for (const r of kernel.iova) {
    if (r.kernelNs !== null) out.push({ label: `iova_to_phys ${r.format} 2^${r.leafLg2}`, ratio: r.ns / r.kernelNs });
  }
  return out;
}

function opTime(ns: number): string {
  if (ns >= 1e6) return `${(ns / 1e6).toFixed(2)} ms`;
  if (ns >= 1e4) return `${(ns / 1e3).toFixed(1)} us`;
  return `${ns.toFixed(1)} ns`;
}

function liveOpTable(rows: readonly LiveOpRow[]): string {
  const lines = [
    'live-table ops (no kernel figures: Linux 7.0 has none of the hitless ops or KHO restore; the AMD rows are the hardware model):',
    'format   config          op                           per op     calls',
  ];
  for (const r of rows) {
    lines.push(
      `${r.format.padEnd(8)} ${r.config.padEnd(15)} ${r.op.padEnd(28)} ${opTime(r.ns).padStart(10)}   ${String(r.calls).padStart(6)}`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Each row measured `runs` times, all rows in turn per run; the median per row. */
function kernelRows(runs: number, quick: boolean, progress: Progress): { pairs: PairRow[]; iova: IovaToPhysRow[] } {
  const opts: PairOptions = quick ? { targetMs: 2, warmupMs: 5 } : { targetMs: 40, warmupMs: 200 };
  const byKey = new Map<string, PairRow[]>();
  for (let run = 0; run < runs; run++) {
    for (const bt of BENCH_TABLES) {
      for (const shape of PAIR_SHAPES) {
        progress.show(`pairs run ${run + 1}/${runs}: ${bt.format} ${bt.config} ${shape.pgcount}x2^${shape.pgsizeLg2}`);
        const r = measurePair(bt, shape, opts);
        const k = `${r.format} ${r.config} ${r.pgsizeLg2}x${r.pgcount}`;
        const rs = byKey.get(k);
        if (rs === undefined) byKey.set(k, [r]);
        else rs.push(r);
      }
    }
  }
  // Each row's median run.
  const pairs = [...byKey.values()].map((rs) => {
    const mid = median(rs.map((r) => r.pairNs));
    return rs.find((r) => r.pairNs === mid)!;
  });
  const iova: IovaToPhysRow[] = [];
  for (const bt of BENCH_TABLES) {
    const probe = makeBenchTable(bt);
    const leaves = iovaToPhysLeaves(probe);
    probe.deinit();
    for (const leafLg2 of leaves) {
      progress.show(`iova_to_phys: ${bt.format} ${bt.config} 2^${leafLg2}`);
      iova.push(measureIovaToPhys(bt, leafLg2, quick ? 1 : 5));
    }
  }
  return { pairs, iova };
}

function positiveInt(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new CliError(`--${name} must be a positive integer, got "${v}"`);
  return n;
}

export function bench(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: {
      json: { type: 'boolean' },
      svg: { type: 'string' },
      runs: { type: 'string' },
      samples: { type: 'string' },
      quick: { type: 'boolean' },
      'no-scale': { type: 'boolean' },
      'no-kernel': { type: 'boolean' },
      'no-ops': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(benchHelp);
    return 0;
  }
  const runs = positiveInt(values.runs, 'runs', values.quick ? 1 : 3);
  const samples = positiveInt(values.samples, 'samples', values.quick ? 20 : 400);
  const opts: TimingOptions = { batch: 16, samples, warmup: values.quick ? 20 : 200 };

  // One untimed pass over every row first: the JIT settles on code that has
  // seen every format and shape, so the first row timed is not the one that
  // pays for compilation. Runs then go over all rows in turn, so a noisy
  // moment of the machine lands in one run of several rows, not in every
  // run of one row, and the median drops it.
  const warm: TimingOptions = { batch: opts.batch, samples: 1, warmup: values.quick ? 20 : 400 };
  const passes: SeedRow[][] = [];
  const progress = new Progress(values.json === true);
  for (let run = -1; run < runs; run++) {
    const pass: SeedRow[] = [];
    for (const f of BENCH_FORMATS) {
      for (const shape of SHAPES) {
        progress.show(`${run < 0 ? 'warming up' : `run ${run + 1}/${runs}`}: ${f.key} ${shape.pgcount}x2^${shape.pgsizeLg2}`);
        pass.push(measureRow(f, shape, run < 0 ? warm : opts));
      }
    }
    if (run >= 0) passes.push(pass);
  }
  const rows = passes[0]!.map((_, i) => medianRow(passes.map((p) => p[i]!)));
  const json = jsonRows(rows);
  const kernel = values['no-kernel'] ? { pairs: [], iova: [] } : kernelRows(runs, values.quick === true, progress);
  const scale: ScaleRow[] = [];
  if (!values['no-scale']) {
    for (const f of BENCH_FORMATS) {
      for (const s of SCALE_SHAPES) {
        progress.show(`scale: ${f.key} ${s.pgcount}x2^${s.pgsizeLg2}`);
        scale.push(...measureScale(f, s));
      }
    }
  }
  const ops: LiveOpRow[] = values['no-ops'] ? [] : measureLiveOps(values.quick === true, (w) => progress.show(w));
  progress.clear();
  const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} CPUs, node ${process.version}, ${runs} run(s) x ${samples} samples of ${opts.batch} calls, median of runs`;
  if (values.svg !== undefined) writeFileSync(values.svg, benchSvg(rows, `genpt bench: ${machine}`, kernelRatios(json, kernel)));
  if (values.json) {
    const all = [...json, ...kernel.pairs, ...kernel.iova, ...scale.map((s) => ({ kind: 'scale', ...s })), ...ops];
    process.stdout.write(JSON.stringify(all, null, 2) + '\n');
    return 0;
  }
  process.stdout.write(`genpt bench: ${machine}\n\n${seedTable(json)}\n${kernelTable(json)}\n${oaBatchTable(json)}`);
  if (kernel.pairs.length) process.stdout.write(`\n${pairTable(kernel.pairs)}\n${iovaTable(kernel.iova)}`);
  if (scale.length) process.stdout.write(`\n${scaleTable(scale, json)}`);
  if (ops.length) process.stdout.write(`\n${liveOpTable(ops)}`);
  return 0;
}
