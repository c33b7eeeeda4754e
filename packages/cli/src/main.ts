/** The genpt command line: dispatch to a command, errors to stderr with their errno name. */
import { CliError, reportError } from './cli-error.js';
import { bench, benchHelp } from './commands/bench.js';
import { golden, goldenHelp } from './commands/golden.js';

interface Command {
  summary: string;
  help: string;
  run(argv: string[]): number | Promise<number>;
}

const commands: Record<string, Command> = {
  golden: { summary: "replay the kernel's golden traces bit for bit", help: goldenHelp, run: golden },
  bench: { summary: "the seed's map/unmap benchmark: new vs io-pgtable-style old, and vs the kernel's C", help: benchHelp, run: bench },
};

export function mainHelp(): string {
  const width = Math.max(...Object.keys(commands).map((c) => c.length));
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return `Usage: genpt <command> [options]

genpt: the Linux kernel's Generic Page Table (iommupt) in TypeScript.

Commands:
${lines.join('\n')}

Run "genpt <command> --help" for a command's options. Addresses may be given
in hex (0x...) or decimal.
`;
}

/** Run the command line; returns the exit status. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  try {
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
