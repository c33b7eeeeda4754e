/** The genpt command line: dispatch to a command, errors to stderr with their errno name. */
import { readFileSync } from 'node:fs';
import { CliError, reportError } from './cli-error.js';

/** @genpt/cli's version, from its package.json. */
export function cliVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface Command {
  summary: string;
  /** Loaded on use: each command pulls in only what it needs, so the CLI starts quickly. */
  run(argv: string[]): Promise<number>;
}

const commands: Record<string, Command> = {
  demo: {
    summary: 'build a table, map pages of several sizes, dump it, unmap, show the gather',
    run: async (argv) => (await import('./commands/demo.js')).demo(argv),
  },
  run: {
    summary: 'run an op script (golden step vocabulary, or DMA on the AMD IOMMU model); print results and the table, or --json',
    run: async (argv) => (await import('./commands/run.js')).run(argv),
  },
  dump: {
    summary: 'dump a table (demo or --script) as text, --json, --html page or raw --image',
    run: async (argv) => (await import('./commands/dump.js')).dump(argv),
  },
  walk: {
    summary: 'translate an IOVA through a table in a raw memory image, level by level',
    run: async (argv) => (await import('./commands/walk.js')).walk(argv),
  },
  golden: {
    summary: "replay the kernel's golden traces bit for bit",
    run: async (argv) => (await import('./commands/golden.js')).golden(argv),
  },
  bench: {
    summary: "the seed's map/unmap benchmark: new vs io-pgtable-style old, and vs the kernel's C",
    run: async (argv) => (await import('./commands/bench.js')).bench(argv),
  },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: genpt <command> [options]

genpt: the Linux kernel's Generic Page Table (iommupt) in TypeScript.

Commands:
${lines.join('\n')}

Run "genpt <command> --help" for a command's options, "genpt --version" for
the version. Addresses may be given
in hex (0x...) or decimal. Errors go to stderr as "genpt: ECODE: message";
exit status 0 on success, 1 when an operation fails, 2 for usage errors.
`;
}

/** Run the command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === '--version' || name === '-V' || name === 'version') {
      process.stdout.write(`${cliVersion()}\n`);
      return 0;
    }
    if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
      process.stdout.write(mainHelp());
      return name === undefined ? 2 : 0;
    }
    const cmd = commands[name];
    if (cmd === undefined) throw new CliError(`unknown command "${name}" (see genpt --help)`);
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof TypeError && 'code' in e && String(e.code).startsWith('ERR_PARSE_ARGS')) {
      return reportError(new CliError(e.message));
    }
    return reportError(e);
  }
}
