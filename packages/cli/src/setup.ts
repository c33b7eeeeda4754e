/** Choosing the format and config a command runs with: flags, then the script, then defaults. */
import { jsonEqual, type GoldenFormat } from '@genpt/golden';
import { defaultFormatName, findFormat } from './args.js';
import { configNames, normaliseConfig, resolveConfig, type NamedConfig } from './configs.js';
import { ScriptRunner } from './runner.js';
import { parseScript, type Script } from './script.js';

export interface SetupFlags {
  format?: string | undefined;
  config?: string | undefined;
}

export interface Setup {
  gf: GoldenFormat;
  config: NamedConfig;
}

/**
 * --format wins over the script's format; --config over the script's
 * config, which only applies to the script's own format.
 */
export function chooseSetup(flags: SetupFlags, script?: Script, scriptFile?: string): Setup {
  const gf = findFormat(flags.format ?? script?.format ?? defaultFormatName());
  let config: NamedConfig;
  const own = script !== undefined && (script.format === undefined || script.format === gf.name);
  if (flags.config !== undefined || !own || script.config === undefined) {
    config = resolveConfig(gf, flags.config);
  } else if (typeof script.config === 'string') {
    config = resolveConfig(gf, script.config);
  } else {
    const own = normaliseConfig(gf, script.config, 'script config');
    // A golden config by its name (a trace's is one), else by the file
    // holding it: genpt walk --config takes either.
    const golden = configNames(gf.name).find((n) => jsonEqual(resolveConfig(gf, n).config, own));
    config = { name: golden ?? scriptFile ?? 'script', config: own };
  }
  return { gf, config };
}

export function openRunner(setup: Setup): ScriptRunner {
  return new ScriptRunner(setup.gf, setup.config);
}

/**
 * Run a script (JSON text, or the parsed object) to the end and return the
 * runner: its records hold every result, its table the table.
 */
export function runScript(input: string | object, flags: SetupFlags = {}): ScriptRunner {
  const script = parseScript(typeof input === 'string' ? input : JSON.stringify(input), 'script');
  const runner = openRunner(chooseSetup(flags, script));
  for (const step of script.steps) runner.run(step);
  return runner;
}
