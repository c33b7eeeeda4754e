/**
 * The dump as one self-contained HTML page (no external resources): the
 * radix tree as nested <details> elements, each table expandable, with a
 * map of its items and one row per table pointer or leaf run; leaves are
 * coloured by size (background) and prot (left edge).
 */
import { protText } from '../decode/leaf.js';
import type { LeafRun, Run, TableNode, TableTree } from './model.js';
import { bytesText, hx, sizeLg2Text } from './units.js';

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Hue for a page size: 4K green, 2M blue, 1G purple, larger towards red. */
export function sizeHue(lg2: number): number {
  return Math.round((140 + ((lg2 - 12) * 70) / 9 + 360) % 360);
}

export function sizeColor(lg2: number): string {
  return `hsl(${sizeHue(lg2)} 70% 82%)`;
}

const PROT_COLORS: Record<string, string> = { 'r-': '#2e7d32', rw: '#c62828', '-w': '#ef6c00' };

export function protColor(text: string): string {
  return PROT_COLORS[text.slice(0, 2)] ?? '#757575';
}

const CELL = 7;
const PER_ROW = 64;

/** A map of the table's items: one cell each, coloured like the rows. */
function itemMap(n: TableNode): string {
  const rowsNeeded = Math.ceil(n.numItems / PER_ROW);
  const w = Math.min(n.numItems, PER_ROW) * CELL;
  const h = rowsNeeded * CELL;
  const cells: string[] = [];
  const cell = (i: number, fill: string, title: string): void => {
    const x = (i % PER_ROW) * CELL;
    const y = Math.floor(i / PER_ROW) * CELL;
    cells.push(`<rect x="${x}" y="${y}" width="${CELL - 1}" height="${CELL - 1}" fill="${fill}"><title>${esc(title)}</title></rect>`);
  };
  for (const r of n.runs) {
    if (r.kind === 'L') {
      for (let i = r.firstIndex; i <= r.lastIndex; i++)
        cell(i, sizeColor(r.leaf.sizeLg2), `[${i}] leaf ${sizeLg2Text(r.leaf.sizeLg2)} ${protText(r.leaf.prot)}`);
    } else if (r.kind === 'T') {
      for (let i = r.index; i <= r.lastIndex; i++) cell(i, '#546e7a', r.count === 1 ? `[${i}] table @${hx(r.child.pa)}` : `[${i}] table`);
    } else {
      cell(r.index, '#fdd835', `[${r.index}] not present ${hx(r.raw)}`);
    }
  }
  return `<svg class="items" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${n.used} of ${n.numItems} items used"><rect width="${w}" height="${h}" fill="#eceff1"/>${cells.join('')}</svg>`;
}

function leafRow(r: LeafRun, hasDirty: boolean): string {
  const prot = protText(r.leaf.prot);
  const size = sizeLg2Text(r.leaf.sizeLg2);
  const idx = r.firstIndex === r.lastIndex ? `[${r.firstIndex}]` : `[${r.firstIndex}-${r.lastIndex}]`;
  const count = r.count === 1 ? size : `${r.count} x ${size}`;
  const contig = r.leaf.contigLg2 > 0 ? ` <span class="contig">contiguous, ${2 ** r.leaf.contigLg2} items</span>` : '';
  const dirty = hasDirty ? ` <span class="${r.leaf.dirty ? 'dirty' : 'clean'}">${r.leaf.dirty ? 'dirty' : 'clean'}</span>` : '';
  const oaLast = r.oa + (r.vaLast - r.va);
  return (
    `<li class="leaf" style="--size:${sizeColor(r.leaf.sizeLg2)};--prot:${protColor(prot)}" data-index="${r.firstIndex}" data-va="${hx(r.va)}" data-oa="${hx(r.oa)}" data-size="${size}" data-prot="${esc(prot)}"${hasDirty ? ` data-dirty="${r.leaf.dirty}"` : ''}>` +
    `<span class="idx">${idx}</span> <span class="va">${hx(r.va)}-${hx(r.vaLast)}</span> <span class="arrow">&rarr;</span> ` +
    `<span class="oa">${hx(r.oa)}-${hx(oaLast)}</span> <span class="size">${count}</span>${contig} <span class="prot">${esc(prot)}</span>${dirty}</li>`
  );
}

function runRow(r: Run, hasDirty: boolean): string {
  if (r.kind === 'L') return leafRow(r, hasDirty);
  if (r.kind === 'E') {
    return `<li class="other" data-index="${r.index}"><span class="idx">[${r.index}]</span> <span class="va">${hx(r.va)}-${hx(r.vaLast)}</span> not present, raw ${hx(r.raw)}</li>`;
  }
  const idx = r.count === 1 ? `[${r.index}]` : `[${r.index}-${r.lastIndex}]`;
  const what =
    r.count === 1 ? `table @${hx(r.child.pa)}` : `${r.count} tables alike (same layout, OA continuing), the first @${hx(r.child.pa)}`;
  return `<li class="ptr" data-index="${r.index}"><span class="idx">${idx}</span> <span class="va">${hx(r.va)}-${hx(r.vaLast)}</span> ${what}${tableBlock(r.child, hasDirty)}</li>`;
}

function tableBlock(n: TableNode, hasDirty: boolean): string {
  const where = n.path.length === 0 ? `VA span 2^${n.spanLg2}` : `VA ${hx(n.va)}-${hx(n.vaLast)}`;
  return (
    `<details class="table" data-level="${n.level}" data-path="${n.path.join('.')}"${n.path.length === 0 ? ' open' : ''}>` +
    `<summary><span class="lvl">L${n.level}</span> table @${hx(n.pa)} <span class="where">${where}</span> ` +
    `<span class="items-count">${n.numItems} x ${sizeLg2Text(n.itemLg2sz)}</span> <span class="used">${n.used} used</span></summary>` +
    `<div class="body">${itemMap(n)}<ul class="entries">${n.runs.map((r) => runRow(r, hasDirty)).join('')}</ul></div></details>`
  );
}

function legend(tree: TableTree): string {
  const sizes = new Set<number>();
  const prots = new Set<string>();
  const visit = (n: TableNode): void => {
    for (const r of n.runs) {
      if (r.kind === 'L') {
        sizes.add(r.leaf.sizeLg2);
        prots.add(protText(r.leaf.prot));
      } else if (r.kind === 'T') visit(r.child);
    }
  };
  visit(tree.root);
  const s = [...sizes].sort((a, b) => a - b).map((l) => `<span class="swatch" style="background:${sizeColor(l)}">${sizeLg2Text(l)}</span>`);
  const p = [...prots].sort().map((t) => `<span class="swatch prot-swatch" style="border-left-color:${protColor(t)}">${esc(t)}</span>`);
  return `<div class="legend"><span>page sizes:</span> ${s.join(' ') || 'none'} <span>prot:</span> ${p.join(' ') || 'none'} <span class="swatch" style="background:#546e7a;color:#fff">table</span></div>`;
}

const CSS = `
body{font:14px/1.4 system-ui,sans-serif;margin:16px 24px;color:#212121;background:#fafafa}
h1{font-size:20px;margin:0 0 4px}h1 small{font-weight:normal;color:#616161}
.summary{margin:0 0 8px;color:#424242}
.legend{margin:8px 0}.swatch{display:inline-block;padding:1px 8px;margin-right:4px;border-radius:3px;font:12px monospace;border:1px solid #cfd8dc}
.prot-swatch{border-left:6px solid;background:#fff}
button{margin:0 6px 8px 0}
details.table{margin:4px 0 4px 12px;border-left:2px solid #b0bec5;padding-left:8px}
summary{cursor:pointer;font:13px monospace;padding:2px 0}
.lvl{display:inline-block;min-width:24px;background:#37474f;color:#fff;border-radius:3px;text-align:center;padding:0 4px}
.where,.items-count,.used{color:#546e7a;margin-left:8px}
svg.items{display:block;margin:4px 0 6px 4px;border:1px solid #b0bec5}
ul.entries{list-style:none;margin:0;padding:0}
ul.entries>li{font:12px monospace;margin:2px 0;padding:2px 6px;border-radius:3px}
li.leaf{background:var(--size);border-left:6px solid var(--prot)}
li.ptr{background:#eceff1}li.other{background:#fff59d}
.idx{display:inline-block;min-width:64px;font-weight:bold}.arrow{color:#616161}
.size,.prot{font-weight:bold;margin-left:6px}.contig{color:#37474f}
.dirty{background:repeating-linear-gradient(45deg,#ffab91,#ffab91 4px,#ffccbc 4px,#ffccbc 8px);padding:0 4px;border-radius:2px}
.clean{color:#757575}
`;

const SCRIPT = `
document.getElementById('expand-all').addEventListener('click',()=>document.querySelectorAll('details.table').forEach(d=>d.open=true));
document.getElementById('collapse-all').addEventListener('click',()=>document.querySelectorAll('details.table').forEach(d=>{d.open=!d.dataset.path}));
`;

export function renderHtmlDump(tree: TableTree): string {
  const title = `${tree.format} page table (${tree.config})`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>genpt: ${esc(title)}</title><style>${CSS}</style></head>
<body>
<h1>${esc(tree.format)} page table <small>config ${esc(tree.config)}</small></h1>
<p class="summary">top level ${tree.topLevel} @${hx(tree.topPa)}, ${tree.tables} table${tree.tables === 1 ? '' : 's'}, ${tree.leafEntries} leaf entr${tree.leafEntries === 1 ? 'y' : 'ies'} mapping ${bytesText(tree.mappedBytes)}</p>
${legend(tree)}
<div class="controls"><button id="expand-all" type="button">Expand all</button><button id="collapse-all" type="button">Collapse all</button></div>
<main id="tree">${tableBlock(tree.root, tree.hasDirty)}</main>
<script>${SCRIPT}</script>
</body></html>
`;
}
