#!/usr/bin/env node
/**
 * Before/after of `genpt bench`'s seed rows in one process: two built
 * checkouts (each with packages/cli/dist), their rows measured alternately,
 * round after round, the order of the two sides swapped every round. A noisy
 * moment of the machine, a GC or a CPU frequency change then lands on both
 * sides alike instead of on whichever process ran during it, which is what
 * separate `genpt bench` runs cannot avoid on a shared 2-vCPU machine.
 *
 * Each checkout's modules are its own (its own functions, type feedback and
 * table memory): nothing of one side's JIT state is shared with the other.
 *
 *   git worktree add ../genpt-before <ref>
 *   (cd ../genpt-before && pnpm install --frozen-lockfile && pnpm build)
 *   node scripts/bench-ab.mjs ../genpt-before [after=.] [--rounds 10] [--samples 400] [--processes N] [--json]
 *
 * Prints per row the median over rounds of each side's per-call average,
 * and after/before - 1.
 *
 * With --processes N, each side is instead measured in N fresh processes,
 * alternating before/after, each process warming up and taking the median of
 * --rounds rounds; the figure is the median over the processes. V8's
 * optimisation decisions (inlining, tier-up timing on a busy 2-vCPU machine)
 * differ from one process to the next by as much as a real change: one
 * process, of either side, can land 25% off its side's median. Only many
 * processes measure the code rather than one process's luck.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '10' },
    samples: { type: 'string', default: '400' },
    json: { type: 'boolean' },
    processes: { type: 'string', default: '0' },
    child: { type: 'boolean' },
  },
});
if (positionals.length < 1 || positionals.length > 2) {
  process.stderr.write(
    'usage: node scripts/bench-ab.mjs <before-checkout> [after-checkout] [--rounds N] [--samples N] [--processes N] [--json]\n',
  );
  process.exit(2);
}
const rounds = Number(values.rounds);
const samples = Number(values.samples);
const processes = Number(values.processes);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(samples) || samples < 1 || !Number.isInteger(processes) || processes < 0) {
  process.stderr.write('bench-ab: --rounds and --samples must be positive integers, --processes a count\n');
  process.exit(2);
}

async function load(root) {
  const file = path.resolve(root, 'packages/cli/dist/bench/seed.js');
  if (!existsSync(file)) {
    process.stderr.write(`bench-ab: ${file} is missing (build that checkout first)\n`);
    process.exit(2);
  }
  return import(pathToFileURL(file).href);
}

const opts = { batch: 16, samples, warmup: 200 };
const warm = { batch: 16, samples: 1, warmup: 400 };

/** The cells `genpt bench` reports for the new side: seed bitmap and full bitmap, map and unmap. */
const CELLS = [
  ['map', 'newT', 'mapAvg'],
  ['unmap', 'newT', 'unmapAvg'],
  ['map (full bitmap)', 'rangeT', 'mapAvg'],
  ['unmap (full bitmap)', 'rangeT', 'unmapAvg'],
];

const rowsOf = (seed) => seed.BENCH_FORMATS.flatMap((f) => seed.SHAPES.map((shape) => ({ f, shape })));
const keyOf = ({ f, shape }) => `${f.key} ${shape.pgsizeLg2 === 21 ? '2M' : '4K'} x${shape.pgcount}`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

if (values.child) {
  // One side in this process: warm every row, then each cell's median of the rounds, as JSON.
  const seed = await load(positionals[0]);
  const rows = rowsOf(seed);
  const cells = rows.map(() => CELLS.map(() => []));
  for (const r of rows) seed.measureRow(r.f, r.shape, warm);
  for (let round = 0; round < rounds; round++) {
    for (const [i, r] of rows.entries()) {
      const m = seed.measureRow(r.f, r.shape, opts);
      for (const [c, [, t, field]] of CELLS.entries()) cells[i][c].push(m[t][field]);
    }
  }
  process.stdout.write(JSON.stringify({ keys: rows.map(keyOf), cells: cells.map((row) => row.map(median)) }));
  process.exit(0);
}

const roots = [positionals[0], positionals[1] ?? '.'];
let rowKeys;
// got[side][row][cell] = values, one per round (in-process) or per process
let got;
if (processes > 0) {
  const self = fileURLToPath(import.meta.url);
  got = [null, null];
  for (let p = 0; p < processes; p++) {
    for (const k of p % 2 === 0 ? [0, 1] : [1, 0]) {
      const r = spawnSync(process.execPath, [self, '--child', roots[k], '--rounds', String(rounds), '--samples', String(samples)], {
        encoding: 'utf8',
        maxBuffer: 1 << 24,
      });
      if (r.status !== 0) {
        process.stderr.write(`bench-ab: the child for ${roots[k]} failed\n${r.stderr}`);
        process.exit(1);
      }
      const out = JSON.parse(r.stdout);
      if (rowKeys === undefined) rowKeys = out.keys;
      if (out.keys.join() !== rowKeys.join()) {
        process.stderr.write('bench-ab: the two checkouts bench different rows\n');
        process.exit(2);
      }
      got[k] ??= out.keys.map(() => CELLS.map(() => []));
      for (const [i, row] of out.cells.entries()) for (const [c, v] of row.entries()) got[k][i][c].push(v);
    }
    process.stderr.write(`process pair ${p + 1}/${processes}\n`);
  }
} else {
  const sides = [await load(roots[0]), await load(roots[1])];
  const layout = sides.map((seed) => rowsOf(seed).map(keyOf).join());
  if (layout[0] !== layout[1]) {
    process.stderr.write('bench-ab: the two checkouts bench different rows\n');
    process.exit(2);
  }
  rowKeys = rowsOf(sides[0]).map(keyOf);
  got = sides.map((seed) => rowsOf(seed).map(() => CELLS.map(() => [])));
  for (const seed of sides) for (const r of rowsOf(seed)) seed.measureRow(r.f, r.shape, warm);
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [0, 1] : [1, 0];
    for (let i = 0; i < rowKeys.length; i++) {
      for (const k of order) {
        const r = rowsOf(sides[k])[i];
        const m = sides[k].measureRow(r.f, r.shape, opts);
        for (const [c, [, t, field]] of CELLS.entries()) got[k][i][c].push(m[t][field]);
      }
    }
    process.stderr.write(`round ${round + 1}/${rounds}\n`);
  }
}

const out = rowKeys.map((row, i) => ({
  row,
  cells: CELLS.map(([name], c) => {
    const before = median(got[0][i][c]);
    const after = median(got[1][i][c]);
    return { cell: name, beforeNs: before, afterNs: after, change: after / before - 1 };
  }),
}));
const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} CPUs, node ${process.version}; ${rounds} rounds x ${samples} samples of ${opts.batch} calls, ${
  processes > 0 ? `median over ${processes} processes per side of each process's median of rounds` : 'median of rounds in one process'
}`;
if (values.json) {
  process.stdout.write(`${JSON.stringify({ machine, rows: out }, null, 2)}\n`);
} else {
  process.stdout.write(`bench-ab: ${machine}\n\n| row | ${CELLS.map(([n]) => `${n}: before -> after ns`).join(' | ')} |\n`);
  process.stdout.write(`|---|${CELLS.map(() => '---').join('|')}|\n`);
  for (const r of out) {
    const cells = r.cells.map(
      (c) => `${c.beforeNs.toFixed(0)} -> ${c.afterNs.toFixed(0)} (${c.change >= 0 ? '+' : ''}${(c.change * 100).toFixed(1)}%)`,
    );
    process.stdout.write(`| ${r.row} | ${cells.join(' | ')} |\n`);
  }
  const worst = out.flatMap((r) => r.cells.map((c) => ({ ...c, row: r.row }))).sort((a, b) => b.change - a.change)[0];
  process.stdout.write(`\nworst: ${worst.row} ${worst.cell} ${(worst.change * 100).toFixed(1)}%\n`);
}
