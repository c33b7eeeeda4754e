/** The dump as JSON: the same tree, u64 values as "0x..." strings; every item's raw value only with --raw. */
import { protText } from '../decode/leaf.js';
import type { Run, TableNode, TableTree } from './model.js';
import { hx } from './units.js';

function runJson(r: Run): unknown {
  if (r.kind === 'T') {
    // count > 1: `count` alike tables from index to lastIndex; `table` is the first.
    return {
      kind: 'T',
      index: r.index,
      lastIndex: r.lastIndex,
      count: r.count,
      va: hx(r.va),
      vaLast: hx(r.vaLast),
      raw: hx(r.raw),
      table: tableJson(r.child),
    };
  }
  if (r.kind === 'E') return { kind: 'E', index: r.index, va: hx(r.va), vaLast: hx(r.vaLast), raw: hx(r.raw) };
  return {
    kind: 'L',
    firstIndex: r.firstIndex,
    lastIndex: r.lastIndex,
    va: hx(r.va),
    vaLast: hx(r.vaLast),
    oa: hx(r.oa),
    entries: r.count,
    sizeLg2: r.leaf.sizeLg2,
    contigLg2: r.leaf.contigLg2,
    prot: r.leaf.prot,
    protText: protText(r.leaf.prot),
    dirty: r.leaf.dirty,
    raw: hx(r.raw),
    ...(r.raws === undefined ? {} : { raws: r.raws.map(hx) }),
  };
}

function tableJson(n: TableNode): unknown {
  return {
    level: n.level,
    path: n.path,
    pa: hx(n.pa),
    va: hx(n.va),
    vaLast: hx(n.vaLast),
    spanLg2: n.spanLg2,
    itemLg2sz: n.itemLg2sz,
    numItems: n.numItems,
    used: n.used,
    runs: n.runs.map(runJson),
  };
}

export function treeJson(tree: TableTree): unknown {
  return {
    format: tree.format,
    config: tree.config,
    topLevel: tree.topLevel,
    topPa: hx(tree.topPa),
    tables: tree.tables,
    leafEntries: tree.leafEntries,
    mappedBytes: hx(tree.mappedBytes),
    root: tableJson(tree.root),
  };
}
