/**
 * Translate one IOVA through a table in a memory image, as the IOMMU would:
 * from the root down, one entry per level, decoded by the format package's
 * own functions (loadEntryRaw, tablePa, entryOa, ...) with pt-core's index
 * arithmetic — no walker of genpt's map/unmap code is involved, so a table
 * written by anything (the kernel, a simulator) can be checked.
 */
import {
  PT_ENTRY_EMPTY,
  PT_ENTRY_OA,
  hiOfBig,
  loOfBig,
  PtCommon,
  PtState,
  TableMemory,
  ptCheckRange,
  ptMakeRange,
  ptRangeToIndex,
  u64ToBigInt,
  type AnyPtFormat,
} from '@genpt/pt-core';
import { CliError } from '../cli-error.js';
import { LeafDecoder, type LeafInfo } from '../decode/leaf.js';
import type { MemoryImage } from './image.js';

/** How the table was configured: what init leaves in pt_common. */
export interface WalkTableParams {
  features: number;
  maxVaszLg2: number;
  maxOaszLg2: number;
  /** The table's granule and table size, where its init chose them (DART, ARMv8); default the format's. */
  granuleLg2sz?: number;
  tablememLg2sz?: number;
}

export interface WalkLevel {
  level: number;
  /** PA of the table at this level. */
  table: number;
  index: number;
  /** PA of the entry read. */
  entryPa: number;
  raw: bigint;
  kind: 'table' | 'leaf' | 'empty';
  /** Tables: the next level's table. */
  next?: number;
  leaf?: LeafInfo;
}

export interface WalkFault {
  /** ERANGE: the IOVA is outside the table; ENOENT: nothing mapped; EFAULT: a table lies outside the image. */
  code: 'ERANGE' | 'ENOENT' | 'EFAULT';
  level: number;
  reason: string;
}

export interface WalkResult {
  iova: bigint;
  topLevel: number;
  root: number;
  /** VA bits the top spans. */
  spanLg2: number;
  levels: WalkLevel[];
  oa?: bigint;
  fault?: WalkFault;
}

function h(v: bigint | number): string {
  return '0x' + v.toString(16);
}

export function walkImage(
  fmt: AnyPtFormat,
  params: WalkTableParams,
  image: MemoryImage,
  root: number,
  topLevel: number,
  iova: bigint,
): WalkResult {
  // The format reads entries through pts.words; the arena is never used.
  const common = new PtCommon(fmt, new TableMemory({ maxBytes: 4096 }), { debug: true });
  common.features = params.features;
  common.maxVaszLg2 = params.maxVaszLg2;
  common.maxOaszLg2 = params.maxOaszLg2;
  common.setGeometry(params.granuleLg2sz ?? fmt.granuleLg2sz, params.tablememLg2sz ?? fmt.tablememLg2sz);
  common.topSet(root, topLevel);
  const hi = hiOfBig(iova);
  const lo = loOfBig(iova);
  const range = ptMakeRange(common, hi, lo, hi, lo);
  const result: WalkResult = { iova, topLevel, root, spanLg2: range.maxVaszLg2, levels: [] };
  if (ptCheckRange(range) !== 0) {
    result.fault = {
      code: 'ERANGE',
      level: topLevel,
      reason: `IOVA ${h(iova)} is outside what a level ${topLevel} top translates (${range.maxVaszLg2} VA bits${common.featSignExtend ? ', sign-extended' : ''})`,
    };
    return result;
  }
  // A top below the level the VA width needs would be one enormous table:
  // no hardware walks that, and its indexes do not fit the walker's ints.
  const topItemsLg2 = Math.max(0, range.maxVaszLg2 - common.itemLg2sz[topLevel]!);
  if (topItemsLg2 > 30) {
    throw new CliError(
      `a level ${topLevel} top spanning ${range.maxVaszLg2} VA bits would hold 2^${topItemsLg2} entries; use a higher --top-level`,
    );
  }
  const decoder = new LeafDecoder(common, range);
  const pts = new PtState(range);
  let table = root;
  for (let level = topLevel; level >= 0; level--) {
    pts.level = level;
    pts.table = table;
    const index = ptRangeToIndex(pts);
    const items = level === topLevel ? 2 ** topItemsLg2 : 2 ** common.numItemsLg2[level]!;
    const itemBytes = 2 ** common.itemBytesLg2;
    const entryPa = table + index * itemBytes;
    if (!image.contains(entryPa, itemBytes)) {
      result.fault = { code: 'EFAULT', level, reason: `the level ${level} entry at ${h(entryPa)} is outside the image` };
      return result;
    }
    // Only the aligned group of items a contiguous entry can span (never more
    // than a level's ordinary table), so a walk reads a few KiB, not the table.
    const group = Math.min(items, 2 ** common.numItemsLg2[level]!);
    const first = index - (index % group);
    pts.words = image.readWords(table + first * itemBytes, group * itemBytes);
    // pts indexes the table from its start: shift the window's base back by `first` items.
    pts.base = -(first << common.itemWordsLg2);
    pts.index = index;
    const type = fmt.loadEntryRaw(pts);
    const raw = u64ToBigInt(pts.entryHi, pts.entryLo);
    const step: WalkLevel = { level, table, index, entryPa, raw, kind: 'empty' };
    result.levels.push(step);
    if (type === PT_ENTRY_EMPTY) {
      const what = raw === 0n ? 'is empty' : `is not present (raw ${h(raw)})`;
      result.fault = { code: 'ENOENT', level, reason: `IOVA ${h(iova)} is not mapped: the level ${level} entry at index ${index} ${what}` };
      return result;
    }
    if (type === PT_ENTRY_OA) {
      step.kind = 'leaf';
      step.leaf = decoder.decode(pts);
      result.oa = step.leaf.oa + (iova & ((1n << BigInt(step.leaf.sizeLg2)) - 1n));
      return result;
    }
    step.kind = 'table';
    const next = fmt.tablePa(pts);
    step.next = next;
    if (level === 0 || !Number.isSafeInteger(next) || !image.contains(next, 8)) {
      result.fault = {
        code: 'EFAULT',
        level,
        reason:
          level === 0 ? 'a level 0 entry points to a table' : `the level ${level} entry points to a table at ${h(next)}, outside the image`,
      };
      return result;
    }
    table = next;
  }
  return result;
}
