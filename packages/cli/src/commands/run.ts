/** genpt run: run an op script and print every result and the table; or write the trace. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { formatNames, readInput } from '../args.js';
import { CliError } from '../cli-error.js';
import { tableTree } from '../dump/model.js';
import { renderTextDump } from '../dump/text.js';
import { writeOutputs } from '../outputs.js';
import { DMA_OPS } from '../dma/script.js';
import { OPS, parseScript, parseScriptJson } from '../script.js';
import { chooseSetup, openRunner } from '../setup.js';
import { stepText } from '../step-text.js';

export const runHelp = (): string => `Usage: genpt run <script.json|-> [options]

Run an op script on a new table and print each step's result, then a dump of
the table. A script is JSON: a list of steps, or
  { "format": "amdv1", "config": "host-l6" | {...}, "name": "...", "steps": [...] }
Steps use the golden trace schema's vocabulary without results
(${OPS.join(', ')}):
  { "op": "map", "iova": "0x200000", "paddr": "0x40000000", "len": "0x200000", "prot": "READ|WRITE" }
  { "op": "unmap", "iova": "0x200000", "len": "0x200000" }
  { "op": "iova_to_phys", "iova": "0x201234" }
  { "op": "set_dirty", "iova": "0x1000" }
  { "op": "read_and_clear_dirty", "iova": "0x0", "size": "0x400000", "flags": 0 }
  { "op": "preserve", "file": "desc.json" }      (KHO: describe the live table)
  { "op": "restore", "image": "mem.bin", "descriptor": "desc.json" }
      (adopt a preserved table from an --image of another run; without
      "image", in this table's memory; without "descriptor", the last preserve's)
Numbers are hex strings ("0x..."), decimal strings or safe integers; prot is
a number (READ 1, WRITE 2, CACHE 4, NOEXEC 8, MMIO 16, PRIV 32) or names.
A golden trace is a script too: its results and driver callbacks are
ignored and computed afresh. Errors an op returns (EADDRINUSE, ERANGE, ...)
are results, not failures. The ops run through kunit-port's GoldenSession,
the code that replays the kernel's traces.

Options:
  -f, --format F      page table format: ${formatNames().join(', ')} (default: the script's, else amdv1)
  -c, --config NAME   a golden config of the format or a JSON config file
                      (default: the script's config, else the format's usual one)
      --json          print the run as a genpt-golden/1 trace with every result
                      filled in (driver callbacks included), instead of text
      --image FILE    write the table memory as a raw little-endian image and
                      print the genpt walk arguments that decode it
      --html FILE     write the final table as an HTML page (see genpt dump)
      --preserve FILE write the final table's preserve descriptor (JSON): with
                      --image, a later run's restore step adopts the table
      --raw           dump every item on its own line with its raw value
  -h, --help          show this help

AMD IOMMU model scripts ("machine": "amd-iommu", from @genpt/amd-driver) run
the table ops through the driver on a domain attached to a device and add
DMA through the hardware model (ops: ${DMA_OPS.join(', ')}):
  { "machine": "amd-iommu", "format": "amdv1" (v1 domain) | "x86_64" (v2),
    "device": 16, "steps": [
    { "op": "mem_write", "paddr": "0x80000000", "data": "deadbeef" },
    { "op": "map", "iova": "0x1000", "paddr": "0x80000000", "len": "0x1000", "prot": "r" },
    { "op": "dma", "iova": "0x1000", "len": 4 },
    { "op": "dma", "iova": "0x1000", "write": true, "data": "00ff" },
    { "op": "events" } ] }
A DMA reports the bytes moved and the fault (IO_PAGE_FAULT ...) where it
stopped; events polls the IOMMU's event log.

Exit status: 0 when the script ran, 1 when the table failed to initialise or a
step could not run (e.g. an op after deinit), 2 for a bad script or options.
`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'f' },
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      image: { type: 'string' },
      preserve: { type: 'string' },
      html: { type: 'string' },
      raw: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(runHelp());
    return 0;
  }
  if (positionals.length !== 1) throw new CliError('run needs one script file, or - for stdin (see genpt run --help)');
  const file = positionals[0]!;
  const source = file === '-' ? 'stdin' : file;
  const text = readInput(file, 'script');
  const defaultName = file === '-' ? 'script' : path.basename(file, '.json');
  const json = values.json ?? false;
  const obj = parseScriptJson(text, source);
  if (obj.machine !== undefined) {
    const name = typeof obj.name === 'string' ? obj.name : defaultName;
    const o = {
      name,
      source,
      format: values.format,
      config: values.config,
      json,
      raw: values.raw ?? false,
      html: values.html,
      image: values.image,
      preserve: values.preserve,
    };
    // The AMD IOMMU model loads only for its scripts.
    const { runDmaScript } = await import('../dma/run-dma.js');
    return runDmaScript(obj, o);
  }
  const script = parseScript(text, source);
  const setup = chooseSetup({ format: values.format, config: values.config }, script, file === '-' ? undefined : file);
  const runner = openRunner(setup);
  const name = script.name ?? defaultName;
  const say = (s: string): void => {
    if (!json) process.stdout.write(s + '\n');
  };
  const dumpNow = (): void => {
    const t = runner.table;
    say(
      t === null
        ? '(no table)'
        : renderTextDump(tableTree(t, setup.config.name, { coalesce: !values.raw, format: setup.gf.name }), {
            raw: values.raw ?? false,
          }).trimEnd(),
    );
  };

  const init = runner.session.init;
  if (init.err !== 0) {
    if (json) process.stdout.write(JSON.stringify(runner.trace(name), null, 2) + '\n');
    throw new CliError(`${setup.gf.name} config ${setup.config.name} failed to initialise`, String(init.err), 1);
  }
  say(`genpt run: ${name}: ${setup.gf.name} (config ${setup.config.name}), top level ${init.topLevel}, ${script.steps.length} steps`);
  runner.trackFreed = !json;
  let lastOp = '';
  let notRun = 0;
  for (const step of script.steps) {
    const rec = runner.run(step);
    lastOp = step.op;
    if (rec.afterDeinit) notRun++;
    if (json) continue;
    for (const line of stepText(rec)) say(line);
    if (step.op === 'dump') dumpNow();
  }
  if (!json && lastOp !== 'dump' && runner.table !== null) {
    say('table at the end:');
    dumpNow();
  }
  if (json) process.stdout.write(JSON.stringify(runner.trace(name), null, 2) + '\n');
  writeOutputs(runner, { image: values.image, html: values.html, preserve: values.preserve, notesToStderr: json });
  if (notRun !== 0) {
    process.stderr.write(`genpt: ENODEV: ${notRun} step${notRun === 1 ? '' : 's'} ran after deinit and could not run\n`);
    return 1;
  }
  return 0;
}
