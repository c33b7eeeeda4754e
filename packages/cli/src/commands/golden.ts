/** genpt golden: replay kernel traces and compare bit for bit. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { findGoldenFiles, goldenDir, loadGoldenTrace, replayTrace, summarize, type ReplayOutcome } from '@genpt/golden';
import { Progress } from '../progress.js';
import { CliError } from '../cli-error.js';
import { goldenReplayFormats } from '../formats.js';

export const goldenHelp = `Usage: genpt golden [options] [<dir|file>...]

Replay every *.json golden trace under each <dir> (recursively) against the
format and config it names: init, every step's result, every gather, every
change_top and iotlb_sync in order, every dirty report and every dump,
compared bit for bit with what the kernel produced. Files whose format is not
installed are skipped. With no <dir>, the traces @genpt/golden ships.
A terminal sees progress on stderr. Ends with "N passed, M failed, K skipped"; exits 1 if
any failed, 2 for usage errors (a missing directory is ENOENT).

Options:
  -v, --verbose   print every file's outcome
      --json      print the outcomes as JSON instead
  -h, --help      show this help
`;

function show(v: unknown): string {
  return JSON.stringify(v);
}

export function golden(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { verbose: { type: 'boolean', short: 'v' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    process.stdout.write(goldenHelp);
    return 0;
  }
  const dirs = positionals.length === 0 ? [goldenDir] : positionals;
  const outcomes: ReplayOutcome[] = [];
  for (const dir of dirs) if (!existsSync(dir)) throw new CliError(`no such file or directory: ${dir}`, 'ENOENT');
  const files = dirs.flatMap((dir) => findGoldenFiles(dir));
  const progress = new Progress(values.json === true);
  for (const [n, file] of files.entries()) {
    progress.show(`replaying ${n + 1}/${files.length} ${path.basename(file)}`);
    let outcome: ReplayOutcome;
    try {
      outcome = { ...replayTrace(loadGoldenTrace(file), goldenReplayFormats), file };
    } catch (e) {
      outcome = { file, name: path.basename(file), format: '?', status: 'failed', steps: 0, reason: String(e) };
    }
    outcomes.push(outcome);
    if (values.json) continue;
    if (outcome.status === 'failed') progress.clear();
    const rel = path.relative(process.cwd(), file);
    if (outcome.status === 'failed') {
      const m = outcome.mismatch;
      process.stdout.write(`FAIL ${rel}\n`);
      if (m) {
        process.stdout.write(`  step ${m.step} (${m.op})\n  expected: ${show(m.expected)}\n  actual:   ${show(m.actual)}\n`);
      } else {
        process.stdout.write(`  ${outcome.reason}\n`);
      }
    } else if (values.verbose) {
      process.stdout.write(`${outcome.status === 'passed' ? 'ok  ' : 'skip'} ${rel}${outcome.reason ? ` (${outcome.reason})` : ''}\n`);
    }
  }
  progress.clear();
  if (values.json) process.stdout.write(JSON.stringify(outcomes, null, 2) + '\n');
  else process.stdout.write(summarize(outcomes) + '\n');
  return outcomes.some((o) => o.status === 'failed') ? 1 : 0;
}
