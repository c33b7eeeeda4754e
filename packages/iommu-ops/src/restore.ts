/**
 * restore: adopt a preserved table's pages in place (KHO restore). Nothing
 * is trusted: every table pointer must land on a page the descriptor lists,
 * at the level it is listed with, each page reached once (no cycle, no
 * table shared), every listed page reached, every leaf one its level can
 * hold (a size the format has there, a contiguous entry whole and
 * consistent, its OA inside the table's OA width), and every page must be
 * in the memory — an allocated block of the listed size (restore in the
 * same memory) or a reserved page of a loaded image (TableMemory.fromImage).
 * Only when all of that holds is anything adopted.
 */
import {
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtRange,
  PtState,
  U64Pair,
  ptAllRange,
  ptIterFirst,
  ptTopMemsizeLg2,
  u64ToBigInt,
} from '@genpt/pt-core';
import type { PtPreserveDescriptor, PtPreservedTable } from './preserve-descriptor.js';
import type { PtIommu } from './pt-iommu.js';

const hex = (v: number | bigint): string => `0x${v.toString(16)}`;

/** 2^i for every leaf size. */
const POW2: readonly number[] = Array.from({ length: 65 }, (_, i) => 2 ** i);

/** The smallest block a table at `level` fits in. */
function minSizeLg2(t: PtIommu, level: number, isTop: boolean): number {
  const common = t.common;
  const lg2 = isTop ? ptTopMemsizeLg2(common, level) : common.tableBytesLg2(level);
  return Math.max(12, lg2);
}

/** Check the listed pages against the memory; the first problem, or ''. */
function checkPages(t: PtIommu, d: PtPreserveDescriptor, listed: Map<number, PtPreservedTable>): string {
  const mem = t.common.mem;
  for (const e of d.tables) {
    if (listed.has(e.pa)) return `page ${hex(e.pa)} is listed twice`;
    listed.set(e.pa, e);
  }
  const top = listed.get(d.topPa);
  if (top === undefined) return `the top ${hex(d.topPa)} is not listed`;
  if (top.level !== d.topLevel) return `the top ${hex(d.topPa)} is listed at level ${top.level}, not ${d.topLevel}`;
  for (const e of d.tables) {
    const isTop = e.pa === d.topPa;
    if (!isTop && !(e.level >= 0 && e.level < d.topLevel)) {
      return `page ${hex(e.pa)} is listed at level ${e.level}: below a level ${d.topLevel} top only levels 0..${d.topLevel - 1} hold tables`;
    }
    const need = minSizeLg2(t, e.level, isTop);
    if (e.sizeLg2 < need) return `page ${hex(e.pa)} (level ${e.level}) is listed as 2^${e.sizeLg2} bytes, the table needs 2^${need}`;
    if (e.pa % 2 ** e.sizeLg2 !== 0) return `page ${hex(e.pa)} is not aligned to its 2^${e.sizeLg2} bytes`;
    if (mem.blockLg2(e.pa) !== e.sizeLg2 && !mem.claimable(e.pa, e.sizeLg2)) {
      const inMem = mem.contains(e.pa) && mem.contains(e.pa + 2 ** e.sizeLg2 - 1);
      return inMem
        ? `page ${hex(e.pa)} (2^${e.sizeLg2} bytes) is neither an allocated block of that size nor a reserved page of a loaded image (a truncated image?)`
        : `page ${hex(e.pa)} (2^${e.sizeLg2} bytes) is outside the table memory (a truncated image?)`;
    }
  }
  return '';
}

/** Every item of the table at pts (items first..end): queue its lower tables, check its leaves. */
function checkItems(t: PtIommu, pts: PtState, first: number, end: number, stack: Array<[number, number, number, number]>): string {
  const fmt = t.fmt;
  const common = t.common;
  const level = pts.level;
  const where = (i: number) => `table ${hex(pts.table)} (level ${level}) item ${i}`;
  const oa = new U64Pair();
  const itemOa = new U64Pair();
  const sizes = new U64Pair();
  const isz = common.itemLg2sz[level]!;
  const oaLimit = 1n << BigInt(common.maxOaszLg2);
  const limitNum = common.maxOaszLg2 <= 52 ? 2 ** common.maxOaszLg2 : -1;
  let i = first;
  while (i < end) {
    pts.index = i;
    const type = fmt.loadEntryRaw(pts);
    if (type === PT_ENTRY_TABLE) {
      if (level === 0) return `${where(i)} is a table pointer at level 0`;
      stack.push([fmt.tablePa(pts), level - 1, i, pts.table]);
      i++;
      continue;
    }
    if (type !== PT_ENTRY_OA) {
      i++;
      continue;
    }
    if (!fmt.canHaveLeaf(pts)) return `${where(i)} is a leaf, which level ${level} cannot hold`;
    const n = fmt.entryNumContigLg2(pts);
    fmt.possibleSizes(pts, sizes);
    const sz = n + isz;
    if (!(sz < 32 ? (sizes.lo >>> sz) & 1 : (sizes.hi >>> (sz - 32)) & 1))
      return `${where(i)} is a leaf of 2^${sz} bytes, a size level ${level} does not have`;
    if (i % 2 ** n !== 0 || i + 2 ** n > end)
      return `${where(i)} is a contiguous entry of ${2 ** n} items not aligned or not inside the table`;
    fmt.entryOa(pts, oa);
    // Up to a 52-bit OA in numbers (a sum past 2^53 rounds but stays past the
    // limit; bigints per leaf were most of restoring 16M leaves), else bigints.
    if (
      limitNum >= 0
        ? (oa.hi >>> 0) * 4294967296 + (oa.lo >>> 0) + POW2[sz]! > limitNum
        : u64ToBigInt(oa.hi, oa.lo) + (1n << BigInt(sz)) > oaLimit
    )
      return `${where(i)} maps OA ${hex(u64ToBigInt(oa.hi, oa.lo))}, past the table's 2^${common.maxOaszLg2}`;
    // Every item of a contiguous entry says the same.
    for (let j = i + 1; j < i + 2 ** n; j++) {
      pts.index = j;
      if (fmt.loadEntryRaw(pts) !== PT_ENTRY_OA || fmt.entryNumContigLg2(pts) !== n)
        return `${where(j)} breaks the contiguous entry at item ${i}`;
      fmt.entryOa(pts, itemOa);
      if (itemOa.hi !== oa.hi || itemOa.lo !== oa.lo) return `${where(j)} breaks the contiguous entry at item ${i} (another OA)`;
    }
    i += 2 ** n;
  }
  return '';
}

/** Walk the preserved table from its top; the first problem, or ''. */
function checkTree(t: PtIommu, d: PtPreserveDescriptor, listed: Map<number, PtPreservedTable>): string {
  const common = t.common;
  const range = ptAllRange(common, new PtRange(common));
  const pts = new PtState(range);
  pts.init(range, range.topLevel, range.topTable);
  ptIterFirst(pts);
  const topFirst = pts.index;
  const topEnd = pts.endIndex;
  const seen = new Set<number>();
  // [table PA, its level, index of the pointer to it (-1: the top), the table holding that pointer]
  const stack: Array<[number, number, number, number]> = [[d.topPa, d.topLevel, -1, 0]];
  while (stack.length !== 0) {
    const [pa, level, index, parent] = stack.pop()!;
    const from = index < 0 ? 'the top' : `table ${hex(parent)} (level ${level + 1}) item ${index}`;
    if (seen.has(pa)) return `${from} points at table ${hex(pa)} again: a cycle or a shared table`;
    const e = listed.get(pa);
    if (e === undefined) return `${from} points at ${hex(pa)}, a page the descriptor does not list`;
    if (e.level !== level) return `${from} reaches ${hex(pa)} at level ${level}, but it is listed at level ${e.level}`;
    seen.add(pa);
    pts.init(range, level, pa);
    const first = index < 0 ? topFirst : 0;
    const end = index < 0 ? topEnd : 2 ** common.numItemsLg2[level]!;
    const problem = checkItems(t, pts, first, end, stack);
    if (problem !== '') return problem;
  }
  for (const e of d.tables) if (!seen.has(e.pa)) return `page ${hex(e.pa)} is listed but no table pointer reaches it`;
  return '';
}

/**
 * Validate the descriptor against table t's config and memory, then adopt
 * its pages and make its top t's. Returns '' or the first problem (then
 * nothing was adopted and t's top is unset).
 */
export function restoreTable(t: PtIommu, d: PtPreserveDescriptor): string {
  const common = t.common;
  const fmt = t.fmt;
  const initial = common.topLevel;
  if (common.featDynamicTop ? d.topLevel < initial : d.topLevel !== initial) {
    return `descriptor.topLevel ${d.topLevel} does not fit the config (top level ${initial}${common.featDynamicTop ? ' or above' : ''})`;
  }
  if (d.topLevel > fmt.maxTopLevel) return `descriptor.topLevel ${d.topLevel} is past ${fmt.name}'s ${fmt.maxTopLevel}`;
  const listed = new Map<number, PtPreservedTable>();
  let problem = checkPages(t, d, listed);
  if (problem === '') {
    common.topSet(d.topPa, d.topLevel);
    problem = checkTree(t, d, listed);
  }
  if (problem !== '') {
    common.topSet(0, initial);
    return problem;
  }
  const mem = common.mem;
  const claimed: number[] = [];
  for (const e of d.tables) {
    if (mem.blockLg2(e.pa) === e.sizeLg2) continue;
    mem.claim(e.pa, e.sizeLg2);
    claimed.push(e.pa);
  }
  if (common.featDmaIncoherent) {
    const dev = t.iommuDevice!;
    const started: PtPreservedTable[] = [];
    for (const e of d.tables) {
      const ret = dev.startIncoherent(e.pa, 2 ** e.sizeLg2);
      if (ret) {
        for (const s of started) dev.stopIncoherent(s.pa, 2 ** s.sizeLg2);
        for (const pa of claimed) mem.unclaim(pa);
        common.topSet(0, initial);
        return `the device refused table ${hex(e.pa)} for incoherent DMA (errno ${-ret})`;
      }
      started.push(e);
    }
  }
  return '';
}
