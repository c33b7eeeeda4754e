/** genpt walk: translate an IOVA through a page table in a raw memory image. */
import { existsSync, statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { GoldenSession } from '@genpt/golden';
import { defaultFormatName, findFormat, formatNames, parseAddr, parseSmallInt } from '../args.js';
import { CliError } from '../cli-error.js';
import { resolveConfig } from '../configs.js';
import { protText } from '../decode/leaf.js';
import { hx, sizeLg2Text } from '../dump/units.js';
import { MemoryImage } from '../walk/image.js';
import { walkImage, type WalkResult } from '../walk/walk.js';

export const walkHelp = (): string => `Usage: genpt walk --image FILE --root ADDR --iova ADDR [options]

Translate an IOVA through a page table in a raw little-endian memory image
(a simulator's RAM, a crash dump, or genpt run/dump --image), as the IOMMU
walks it: each level's table, index and entry, then the OA and the leaf's
size, prot and dirty state, or the reason for the fault. Entries are decoded
by the format package's own functions; the image is read table by table, so
it can be of any size.

Options:
  -f, --format F        page table format: ${formatNames().join(', ')} (default amdv1)
  -c, --config NAME     the golden config (or JSON config file) the table was built
                        with: its features and VA width (default: the format's usual)
      --image FILE      the memory image
      --base ADDR       physical address of the image's first byte (default 0)
      --root ADDR       physical address of the top table
      --top-level N     level of the top table (default: the config's starting one)
      --iova ADDR       the address to translate
      --json            print the walk as JSON
  -h, --help            show this help

Addresses are hex (0x...) or decimal. Exit status: 0 when the IOVA
translates, 1 on a translation fault (ENOENT not mapped, ERANGE outside the
table, EFAULT a table outside the image), 2 for bad arguments (EINVAL,
ENOENT for a missing image).
`;

function toNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CliError(`${what} ${hx(v)} is beyond 2^53`, 'ERANGE');
  return Number(v);
}

function walkText(r: WalkResult, hasDirty: boolean): string[] {
  const lines: string[] = [];
  for (const l of r.levels) {
    const head = `L${l.level} table ${hx(l.table)} [${l.index}]  entry @${hx(l.entryPa)} = ${hx(l.raw)}`;
    if (l.kind === 'table') lines.push(`${head}  table -> ${hx(l.next!)}`);
    else if (l.kind === 'empty') lines.push(`${head}  ${l.raw === 0n ? 'empty' : 'not present'}`);
    else {
      const leaf = l.leaf!;
      const dirty = hasDirty ? (leaf.dirty ? ' dirty' : ' clean') : '';
      const contig = leaf.contigLg2 ? ` (contiguous, ${2 ** leaf.contigLg2} items)` : '';
      lines.push(`${head}  leaf ${sizeLg2Text(leaf.sizeLg2)}${contig} at OA ${hx(leaf.oa)} ${protText(leaf.prot)}${dirty}`);
    }
  }
  lines.push(r.fault ? `fault: ${r.fault.code}: ${r.fault.reason}` : `oa ${hx(r.oa!)}`);
  return lines;
}

function walkJson(r: WalkResult): unknown {
  return {
    iova: hx(r.iova),
    root: hx(r.root),
    topLevel: r.topLevel,
    spanLg2: r.spanLg2,
    levels: r.levels.map((l) => ({
      level: l.level,
      table: hx(l.table),
      index: l.index,
      entryPa: hx(l.entryPa),
      raw: hx(l.raw),
      kind: l.kind,
      ...(l.next !== undefined ? { next: hx(l.next) } : {}),
      ...(l.leaf
        ? {
            oa: hx(l.leaf.oa),
            sizeLg2: l.leaf.sizeLg2,
            contigLg2: l.leaf.contigLg2,
            prot: l.leaf.prot,
            protText: protText(l.leaf.prot),
            dirty: l.leaf.dirty,
          }
        : {}),
    })),
    ...(r.oa !== undefined ? { oa: hx(r.oa) } : {}),
    ...(r.fault ? { fault: r.fault } : {}),
  };
}

export function walk(argv: string[]): number {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      format: { type: 'string', short: 'f' },
      config: { type: 'string', short: 'c' },
      image: { type: 'string' },
      base: { type: 'string' },
      root: { type: 'string' },
      'top-level': { type: 'string' },
      iova: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(walkHelp());
    return 0;
  }
  if (positionals.length) throw new CliError(`walk takes no arguments, got "${positionals[0]}" (see genpt walk --help)`);
  const gf = findFormat(values.format ?? defaultFormatName());
  const fmt = gf.format;
  if (values.image === undefined) throw new CliError('--image is required');
  const iova = parseAddr(values.iova, '--iova');
  const root = toNumber(parseAddr(values.root, '--root'), '--root');
  const base = toNumber(parseAddr(values.base ?? '0', '--base'), '--base');
  const topLevelArg = parseSmallInt(values['top-level'], '--top-level', fmt.maxTopLevel);
  if (!existsSync(values.image)) throw new CliError(`image ${values.image} does not exist`, 'ENOENT');
  if (!statSync(values.image).isFile()) throw new CliError(`image ${values.image} is not a file`);
  if (base % 8 !== 0) throw new CliError(`--base ${hx(base)} is not 8-byte aligned`);

  // The table's parameters as init computes them from the config.
  const config = resolveConfig(gf, values.config);
  const session = new GoldenSession(gf, config.config);
  if (session.table === null) throw new CliError(`config ${config.name} does not initialise a ${gf.name} table`, String(session.init.err));
  const c = session.table.common;
  const topLevel = topLevelArg ?? c.topLevel;
  const params = {
    features: c.features,
    maxVaszLg2: c.maxVaszLg2,
    maxOaszLg2: c.maxOaszLg2,
    granuleLg2sz: c.granuleLg2sz,
    tablememLg2sz: c.tablememLg2sz,
  };
  session.table.deinit();

  const align = 2 ** Math.min(c.topPhysMaskFfs, 30);
  if (root % align !== 0)
    throw new CliError(`--root ${hx(root)} is not ${sizeLg2Text(Math.log2(align))} aligned (${gf.name} top tables are)`);
  const image = new MemoryImage(values.image, base);
  try {
    if (image.size === 0) throw new CliError(`image ${values.image} is empty`);
    if (!image.contains(root, 8)) {
      throw new CliError(`--root ${hx(root)} is outside the image [${hx(image.base)}, ${hx(image.end)}) (check --base)`);
    }
    const r = walkImage(fmt, params, image, root, topLevel, iova);
    if (values.json) process.stdout.write(JSON.stringify(walkJson(r), null, 2) + '\n');
    else {
      const head = `walk ${hx(iova)}: ${gf.name} (config ${config.name}), level ${topLevel} top at ${hx(root)} spanning ${r.spanLg2} VA bits, image [${hx(image.base)}, ${hx(image.end)})`;
      process.stdout.write([head, ...walkText(r, fmt.hasWriteDirty)].join('\n') + '\n');
    }
    if (r.fault) {
      process.stderr.write(`genpt: ${r.fault.code}: translation of ${hx(iova)} faulted at level ${r.fault.level}\n`);
      return 1;
    }
    return 0;
  } finally {
    image.close();
  }
}
