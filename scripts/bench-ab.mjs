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
 *   node scripts/bench-ab.mjs ../genpt-before [after=.] [--rounds 10] [--samples 400] [--json]
 *
 * Prints per row the median over rounds of each side's per-call average,
 * and after/before - 1.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '10' },
    samples: { type: 'string', default: '400' },
    json: { type: 'boolean' },
  },
});
if (positionals.length < 1 || positionals.length > 2) {
  process.stderr.write('usage: node scripts/bench-ab.mjs <before-checkout> [after-checkout] [--rounds N] [--samples N] [--json]\n');
  process.exit(2);
}
const rounds = Number(values.rounds);
const samples = Number(values.samples);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(samples) || samples < 1) {
  process.stderr.write('bench-ab: --rounds and --samples must be positive integers\n');
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

const sides = [
  { name: 'before', seed: await load(positionals[0]) },
  { name: 'after', seed: await load(positionals[1] ?? '.') },
];
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
const layout = sides.map((s) => rowsOf(s.seed).map(keyOf).join());
if (layout[0] !== layout[1]) {
  process.stderr.write('bench-ab: the two checkouts bench different rows\n');
  process.exit(2);
}

// samples[side][row][cell] = per-round values
const got = sides.map((s) => rowsOf(s.seed).map(() => CELLS.map(() => [])));
for (const s of sides) for (const r of rowsOf(s.seed)) s.seed.measureRow(r.f, r.shape, warm);
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? [0, 1] : [1, 0];
  const rows = rowsOf(sides[0].seed);
  for (let i = 0; i < rows.length; i++) {
    for (const k of order) {
      const r = rowsOf(sides[k].seed)[i];
      const m = sides[k].seed.measureRow(r.f, r.shape, opts);
      for (const [c, [, t, field]] of CELLS.entries()) got[k][i][c].push(m[t][field]);
    }
  }
  process.stderr.write(`round ${round + 1}/${rounds}\n`);
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};
const out = rowsOf(sides[0].seed).map((r, i) => ({
  row: keyOf(r),
  cells: CELLS.map(([name], c) => {
    const before = median(got[0][i][c]);
    const after = median(got[1][i][c]);
    return { cell: name, beforeNs: before, afterNs: after, change: after / before - 1 };
  }),
}));
const machine = `${os.cpus()[0]?.model ?? 'unknown cpu'}, ${os.cpus().length} CPUs, node ${process.version}; ${rounds} rounds x ${samples} samples of ${opts.batch} calls, median of rounds`;
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
