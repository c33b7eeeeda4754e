/** genpt dump: a table as text, JSON, an HTML page or a raw memory image. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatNames, readInput } from '../args.js';
import { CliError } from '../cli-error.js';
import { demoScript } from '../demo-script.js';
import { treeJson } from '../dump/json.js';
import { tableTree } from '../dump/model.js';
import { renderTextDump } from '../dump/text.js';
import { writeOutputs } from '../outputs.js';
import type { ScriptRunner } from '../runner.js';
import { parseScript } from '../script.js';
import { chooseSetup, openRunner } from '../setup.js';

export const dumpHelp = (): string => `Usage: genpt dump [--script S|-] [options]

Build a table and dump it. The table is the one an op script leaves
(--script, as genpt run runs it) or, without one, the demo's table after its
maps (genpt demo, before it unmaps). Text by default: one line per table,
table pointer and run of leaves, nested by level, with indices, VA range, OA
range, page size, prot and dirty state.

Options:
  -s, --script S      the op script to run first (a file, or - for stdin)
  -f, --format F      page table format: ${formatNames().join(', ')} (default: the script's, else amdv1)
  -c, --config NAME   a golden config of the format or a JSON config file
      --json          print the dump as JSON (u64 values as "0x..." strings)
      --html FILE     write a self-contained HTML page showing the radix tree:
                      expandable tables, a map of each table's items, leaf
                      runs coloured by page size and prot
      --image FILE    write the table memory as a raw little-endian image and
                      print the genpt walk arguments that decode it
      --preserve FILE write the table's preserve descriptor (JSON): with --image,
                      a restore step of a later genpt run adopts the table
      --raw           every item on its own line with its raw value (with --json:
                      the runs, each with every item's raw value)
  -h, --help          show this help

With --html or --image only notes about the files are printed (add --json
for the JSON dump as well).
`;

export function dump(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      script: { type: 'string', short: 's' },
      format: { type: 'string', short: 'f' },
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      html: { type: 'string' },
      image: { type: 'string' },
      preserve: { type: 'string' },
      raw: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(dumpHelp());
    return 0;
  }
  if (positionals.length) throw new CliError(`dump takes no arguments, got "${positionals[0]}" (a script goes after --script)`);
  const flags = { format: values.format, config: values.config };
  let runner: ScriptRunner;
  if (values.script !== undefined) {
    const file = values.script;
    const script = parseScript(readInput(file, 'script'), file === '-' ? 'stdin' : file);
    runner = openRunner(chooseSetup(flags, script, file === '-' ? undefined : file));
    if (runner.session.init.err !== 0) throw new CliError(`the table failed to initialise`, String(runner.session.init.err), 1);
    for (const step of script.steps) runner.run(step);
    if (runner.table === null)
      throw new CliError(`script ${path.basename(file)} tears the table down (deinit): nothing to dump`, 'ENODEV', 1);
  } else {
    runner = openRunner(chooseSetup(flags));
    const init = runner.session.init;
    if (init.err !== 0) throw new CliError(`the table failed to initialise`, String(init.err), 1);
    const parts = demoScript(init, runner.gf.format.hasWriteDirty);
    const upTo = parts.findIndex((p) => p.steps.some((s) => s.op === 'dump'));
    for (const part of parts.slice(0, upTo)) for (const step of part.steps) runner.run(step);
  }
  // --raw: text puts every item on its own line; JSON keeps the runs and adds every item's raw value.
  const raw = values.raw ?? false;
  const tree = tableTree(runner.table!, runner.config.name, { coalesce: values.json === true || !raw, raws: raw, format: runner.gf.name });
  const files = values.html !== undefined || values.image !== undefined || values.preserve !== undefined;
  if (values.json) process.stdout.write(JSON.stringify(treeJson(tree), null, 2) + '\n');
  else if (!files) process.stdout.write(renderTextDump(tree, { raw: values.raw ?? false }));
  writeOutputs(runner, { image: values.image, html: values.html, preserve: values.preserve, notesToStderr: values.json ?? false });
  return 0;
}
