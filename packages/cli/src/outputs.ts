/** Files a run or dump can leave behind: the raw memory image and the HTML page. */
import { writeFileSync } from 'node:fs';
import { CliError } from './cli-error.js';
import { tableTree } from './dump/model.js';
import { renderHtmlDump } from './dump/html.js';
import { hx } from './dump/units.js';
import type { ScriptRunner } from './runner.js';

export interface OutputFiles {
  image?: string | undefined;
  html?: string | undefined;
  /** Write the final table's preserve descriptor here (restore it from --image in another run). */
  preserve?: string | undefined;
  /** Notes about written files go to stderr (stdout carries JSON). */
  notesToStderr?: boolean;
}

/** The genpt walk command line that decodes an image of this table. */
export function walkCommand(runner: ScriptRunner, image: string): string {
  const t = runner.table!;
  const mem = t.common.mem;
  // A config given inline on stdin has no name to pass on.
  const cfg = runner.config.name === 'script' ? 'CONFIG.json' : runner.config.name;
  return `genpt walk --format ${runner.gf.name} --config ${cfg} --image ${image} --base ${hx(mem.basePa)} --root ${hx(t.common.topTable)} --top-level ${t.common.topLevel} --iova IOVA`;
}

/**
 * Write the table memory from its base PA to the highest byte ever
 * allocated: every table (and stale freed ones) at its physical address,
 * little-endian, as the hardware would read it.
 */
export function tableImage(runner: ScriptRunner): Uint8Array {
  const mem = runner.table!.common.mem;
  return mem.readBytes(mem.basePa, mem.touchedBytes);
}

export function writeOutputs(runner: ScriptRunner, files: OutputFiles): void {
  if (files.image === undefined && files.html === undefined && files.preserve === undefined) return;
  const t = runner.table;
  if (t === null) throw new CliError('the table is gone (init failed or the script ended with deinit): nothing to write', 'ENODEV', 1);
  const note = (s: string): void => void (files.notesToStderr ? process.stderr : process.stdout).write(s + '\n');
  if (files.image !== undefined) {
    const bytes = tableImage(runner);
    writeFileSync(files.image, bytes);
    note(
      `image: ${files.image}, ${hx(bytes.length)} bytes from PA ${hx(t.common.mem.basePa)}; top level ${t.common.topLevel} table at ${hx(t.common.topTable)}`,
    );
    note(`decode with: ${walkCommand(runner, files.image)}`);
  }
  if (files.preserve !== undefined) {
    const d = t.preserve();
    writeFileSync(files.preserve, JSON.stringify(d, null, 2) + '\n');
    note(`preserve: ${files.preserve}, ${d.tables.length} table pages, top level ${d.topLevel} at ${hx(d.topPa)}`);
    if (files.image !== undefined) {
      note(`restore with the step: { "op": "restore", "image": "${files.image}", "descriptor": "${files.preserve}" }`);
    }
  }
  if (files.html !== undefined) {
    writeFileSync(files.html, renderHtmlDump(tableTree(t, runner.config.name, { format: runner.gf.name })));
    note(`html: ${files.html}`);
  }
}
