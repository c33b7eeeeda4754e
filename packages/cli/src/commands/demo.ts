/** genpt demo: the README's first run — build a table, map, dump, unmap, show the gather. */
import { parseArgs } from 'node:util';
import { formatNames } from '../args.js';
import { demoScript, pageSizes } from '../demo-script.js';
import { tableTree } from '../dump/model.js';
import { renderTextDump } from '../dump/text.js';
import { sizeLg2Text } from '../dump/units.js';
import { chooseSetup, openRunner } from '../setup.js';
import { stepText } from '../step-text.js';
import { CliError } from '../cli-error.js';

export const demoHelp = (): string => `Usage: genpt demo [--format F] [--config NAME]

Build a page table, map a few ranges of different page sizes (a handful of
small pages, a 2 MiB-class page, a 1 GiB-class page), mark a page dirty as a
device write would, look addresses up, print a debugfs-style dump of the table
(levels, indices, VA ranges, OA, size, prot, dirty), unmap, and show the
gather (the range to invalidate and the table pages freed) and the table
afterwards. The ops run through the same session that replays the kernel's
golden traces.

Options:
  -f, --format F      page table format: ${formatNames().join(', ')} (default amdv1)
  -c, --config NAME   a golden config of the format (e.g. host-l6, sext-48) or a
                      JSON file with a config; default: the format's usual one
      --raw           dump every item on its own line with its raw value
  -h, --help          show this help
`;

export function demo(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      format: { type: 'string', short: 'f' },
      config: { type: 'string', short: 'c' },
      raw: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  if (values.help) {
    process.stdout.write(demoHelp());
    return 0;
  }
  if (positionals.length) throw new CliError(`demo takes no arguments, got "${positionals[0]}"`);
  const setup = chooseSetup({ format: values.format, config: values.config });
  const runner = openRunner(setup);
  runner.trackFreed = true;
  const init = runner.session.init;
  const out: string[] = [];
  const name = `${setup.gf.name} (config ${setup.config.name})`;
  if (init.err !== 0) throw new CliError(`${name} failed to initialise`, String(init.err), 1);
  const sizes = pageSizes(init.pgsizeBitmap!).map(sizeLg2Text);
  const sizeList =
    sizes.length <= 8 ? sizes.join(' ') : `${sizes.slice(0, 4).join(' ')} ... ${sizes.slice(-2).join(' ')} (${sizes.length} sizes)`;
  out.push(
    `genpt demo: ${setup.gf.name} page table, config ${setup.config.name}`,
    `init: top level ${init.topLevel}, VA ${init.apertureStart}-${init.apertureEnd}, page sizes ${sizeList}`,
    `features: ${init.features!.join(' ') || 'none'}`,
  );
  const parts = demoScript(init, setup.gf.format.hasWriteDirty);
  parts.forEach((part, i) => {
    out.push('', `${i + 1}. ${part.title}:`);
    for (const step of part.steps) {
      const t = runner.table;
      if (step.op === 'dump' && t !== null) {
        runner.run(step);
        out.push(
          renderTextDump(tableTree(t, setup.config.name, { coalesce: !values.raw, format: setup.gf.name }), {
            raw: values.raw ?? false,
          }).trimEnd(),
        );
        continue;
      }
      out.push(...stepText(runner.run(step)));
    }
  });
  process.stdout.write(out.join('\n') + '\n');
  return 0;
}
