/**
 * The debugfs-style text dump: one line per table, per table pointer and per
 * leaf run, nested by level, with indices, VA range, OA range, size, prot
 * and dirty state.
 *
 *   L2 table @0x10000000000  VA span 2^39  512 x 1G  (2 used)
 *     [0]       0x0-0x3fffffff                 table @0x10000001000
 *     L1 table @0x10000001000  0x0-0x3fffffff  512 x 2M  (2 used)
 *       [1]     0x200000-0x3fffff  -> 0x40000000-0x401fffff  2M  r-
 */
import { protText } from '../decode/leaf.js';
import type { LeafRun, Run, TableNode, TableTree } from './model.js';
import { bytesText, hx, sizeLg2Text } from './units.js';

export interface TextDumpOptions {
  /** Every item on its own line with its raw value (no grouping into runs). */
  raw?: boolean;
}

function tableLine(n: TableNode): string {
  const where = n.path.length === 0 ? `VA span 2^${n.spanLg2}` : `${hx(n.va)}-${hx(n.vaLast)}`;
  return `L${n.level} table @${hx(n.pa)}  ${where}  ${n.numItems} x ${sizeLg2Text(n.itemLg2sz)}  (${n.used} used)`;
}

function indexText(first: number, last: number): string {
  return first === last ? `[${first}]` : `[${first}-${last}]`;
}

function leafSize(r: LeafRun): string {
  const one = sizeLg2Text(r.leaf.sizeLg2);
  const contig = r.leaf.contigLg2 > 0 ? ` (${2 ** r.leaf.contigLg2} items${r.count > 1 ? ' each' : ''})` : '';
  return r.count === 1 ? `${one}${contig}` : `${r.count} x ${one}${contig}`;
}

function leafTail(r: LeafRun, hasDirty: boolean): string {
  const dirty = hasDirty ? (r.leaf.dirty ? '  dirty' : '  clean') : '';
  return `${protText(r.leaf.prot)}${dirty}`;
}

export function renderTextDump(tree: TableTree, opts: TextDumpOptions = {}): string {
  const lines: string[] = [];
  lines.push(
    `${tree.format} table (${tree.config}): top level ${tree.topLevel} @${hx(tree.topPa)}, ${tree.tables} table${tree.tables === 1 ? '' : 's'}, ` +
      `${tree.leafEntries} leaf entr${tree.leafEntries === 1 ? 'y' : 'ies'} mapping ${bytesText(tree.mappedBytes)}`,
  );
  const walk = (n: TableNode, depth: number): void => {
    const pad = '  '.repeat(depth);
    lines.push(pad + tableLine(n));
    // [index, VA range, the rest]
    const rows: Array<[string, string, string, Run]> = [];
    for (const r of n.runs) {
      if (r.kind === 'L' && opts.raw) {
        const isz = BigInt(n.itemLg2sz);
        (r.raws ?? [r.raw]).forEach((raw, i) => {
          const index = r.firstIndex + i;
          const va = r.va + (BigInt(i) << isz);
          // A run is linear in VA and OA alike.
          const oa = r.oa + (BigInt(i) << isz);
          rows.push([
            `[${index}]`,
            `${hx(va)}-${hx(va + (1n << isz) - 1n)}`,
            `-> ${hx(oa)}  ${sizeLg2Text(r.leaf.sizeLg2)}  ${leafTail(r, tree.hasDirty)}  raw ${hx(raw)}`,
            r,
          ]);
        });
        continue;
      }
      if (r.kind === 'L') {
        const oaLast = r.oa + (r.vaLast - r.va);
        rows.push([
          indexText(r.firstIndex, r.lastIndex),
          `${hx(r.va)}-${hx(r.vaLast)}`,
          `-> ${hx(r.oa)}-${hx(oaLast)}  ${leafSize(r)}  ${leafTail(r, tree.hasDirty)}`,
          r,
        ]);
      } else if (r.kind === 'T') {
        const what =
          r.count === 1
            ? `table @${hx(r.child.pa)}${opts.raw ? `  raw ${hx(r.raw)}` : ''}`
            : `${r.count} tables alike (same layout, OA continuing), the first @${hx(r.child.pa)}`;
        rows.push([indexText(r.index, r.lastIndex), `${hx(r.va)}-${hx(r.vaLast)}`, what, r]);
      } else {
        rows.push([`[${r.index}]`, `${hx(r.va)}-${hx(r.vaLast)}`, `not present, raw ${hx(r.raw)}`, r]);
      }
    }
    const iw = Math.max(0, ...rows.map(([i]) => i.length));
    const vw = Math.max(0, ...rows.map(([, v]) => v.length));
    for (const [index, va, text, r] of rows) {
      lines.push(`${pad}  ${index.padEnd(iw)}  ${va.padEnd(vw)}  ${text}`);
      if (r.kind === 'T') walk(r.child, depth + 1);
    }
  };
  walk(tree.root, 0);
  return lines.join('\n') + '\n';
}
