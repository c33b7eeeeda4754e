/** genpt run for amd-iommu scripts: print each step, dumps of the domain's table, or the run as JSON. */
import { writeFileSync } from 'node:fs';
import { CliError } from '../cli-error.js';
import { renderHtmlDump } from '../dump/html.js';
import { tableTree } from '../dump/model.js';
import { renderTextDump } from '../dump/text.js';
import { AmdDmaRunner } from './runner.js';
import { dmaScriptFrom } from './script.js';
import { dmaStepText } from './text.js';

export interface DmaRunOptions {
  name: string;
  source: string;
  format?: string | undefined;
  config?: string | undefined;
  json: boolean;
  raw: boolean;
  html?: string | undefined;
  image?: string | undefined;
  preserve?: string | undefined;
}

export function runDmaScript(obj: Record<string, unknown> & { steps: unknown[] }, o: DmaRunOptions): number {
  if (o.config !== undefined) throw new CliError('--config does not apply to amd-iommu scripts: the driver configures its domains');
  if (o.preserve !== undefined) throw new CliError('--preserve is for table-only scripts (the driver owns the domain here)');
  if (o.image !== undefined)
    throw new CliError("--image is for table-only scripts (table memory here also holds the IOMMU's own structures)");
  const script = dmaScriptFrom(obj, o.source, o.format);
  const runner = new AmdDmaRunner(script);
  const say = (s: string): void => {
    if (!o.json) process.stdout.write(s + '\n');
  };
  const label = `amd-iommu ${runner.domain.pdMode}`;
  const dump = (): void =>
    say(renderTextDump(tableTree(runner.table, label, { coalesce: !o.raw, format: script.format }), { raw: o.raw }).trimEnd());
  say(`genpt run: ${o.name}: AMD IOMMU model, ${runner.describe()}, ${script.steps.length} steps`);
  let last = '';
  for (const step of script.steps) {
    const rec = runner.run(step);
    last = step.op;
    for (const line of dmaStepText(rec)) say(line);
    if (step.op === 'dump') dump();
  }
  if (last !== 'dump') {
    say('table at the end:');
    dump();
  }
  if (o.json) process.stdout.write(JSON.stringify(runner.json(o.name), null, 2) + '\n');
  if (o.html !== undefined) {
    writeFileSync(o.html, renderHtmlDump(tableTree(runner.table, label, { format: script.format })));
    (o.json ? process.stderr : process.stdout).write(`html: ${o.html}\n`);
  }
  return 0;
}
