/**
 * Writing items: the helpers formats share for their store paths (the
 * kernel's memset64 choice, its compare-and-exchange installs) and for
 * genpt's bulk ops. All work on the words of the table memory arena, never
 * allocate, and take 64-bit values as hi/lo int32 pairs.
 */
import type { PtCommon } from './common.js';
import type { PtState } from './state.js';
import { u64SubBorrow } from './u64.js';

const fillBits = new Float64Array(1);
const fillWords = new Int32Array(fillBits.buffer);

/**
 * Write the 64-bit value hi:lo into `count` items from word `w` (the kernel's
 * loop-or-memset64). Measured on Node 20: a store loop wins below 8 items; a
 * typed-array fill costs ~20 ns for its call and then little per item, and
 * filling 64-bit elements beats 32-bit ones. The value goes in as a double,
 * which keeps every bit pattern except NaNs, so those loop.
 */
export function ptFillEntries(common: PtCommon, w: number, count: number, hi: number, lo: number): void {
  if (count >= 8 && (hi & 0x7ff00000) !== 0x7ff00000) {
    fillWords[0] = lo;
    fillWords[1] = hi;
    common.entries64.fill(fillBits[0]!, w >>> 1, (w >>> 1) + count);
    return;
  }
  const words = common.words;
  for (const end = w + 2 * count; w < end; w += 2) {
    words[w] = lo;
    words[w + 1] = hi;
  }
}

/** Zero `count` items from word `w`. */
export function ptClearItems(common: PtCommon, w: number, count: number): void {
  ptFillEntries(common, w, count, 0, 0);
}

/**
 * Zero `count` 32-bit items from word `w` (formats with PT_ITEM_WORD_SIZE 4):
 * a store loop for short runs, a typed-array fill for long ones.
 */
export function ptClearItems32(common: PtCommon, w: number, count: number): void {
  const words = common.words;
  if (count >= 16) {
    words.fill(0, w, w + count);
    return;
  }
  for (const end = w + count; w < end; w++) words[w] = 0;
}

/**
 * OR bits into the item at pts.index (a 32-bit item takes lo only) and load
 * the result into pts.entry: setting a software bit.
 */
export function ptItemOr(pts: PtState, hi: number, lo: number): void {
  const i = pts.index;
  const nlo = pts.itemLo(i) | lo;
  const nhi = pts.range.common.itemWordsLg2 === 0 ? 0 : pts.itemHi(i) | hi;
  pts.setItem(i, nhi, nlo);
  pts.entryLo = nlo;
  pts.entryHi = nhi;
}

/**
 * pt_table_install32(): the 32-bit item at pts.index becomes `v` if it still
 * holds pts.entryLo (compare-and-exchange); on success pts.entryLo is `v`.
 */
export function ptTableInstall32(pts: PtState, v: number): boolean {
  const words = pts.words;
  const w = pts.base + pts.index;
  if (words[w] !== pts.entryLo) return false;
  words[w] = v;
  pts.entryLo = v;
  pts.entryHi = 0;
  return true;
}

/**
 * Index of the first item in [pts.index, endIndex) whose low word has any of
 * `presentLo` set, or endIndex: findNonEmpty for formats with a present bit
 * in the low word.
 */
export function ptFindPresent(pts: PtState, endIndex: number, presentLo: number): number {
  const words = pts.words;
  const base = pts.base;
  let w = base + (pts.index << 1);
  const stop = base + (endIndex << 1);
  while (w < stop && !(words[w]! & presentLo)) w += 2;
  return (w - base) >>> 1;
}

/**
 * pt_table_install64(): write hi:lo into the item at pts.index if it still
 * holds pts.entry (a compare-and-exchange; JS has one thread, so a plain
 * compare and store). On success pts.entry is the new value.
 */
export function ptTableInstall64(pts: PtState, hi: number, lo: number): boolean {
  const words = pts.words;
  const w = pts.base + (pts.index << 1);
  if (words[w] !== pts.entryLo || words[w + 1] !== pts.entryHi) return false;
  words[w] = lo;
  words[w + 1] = hi;
  pts.entryLo = lo;
  pts.entryHi = hi;
  return true;
}

/**
 * try_cmpxchg64() of the item at pts.index against pts.entry: store hi:lo if
 * it still holds pts.entry, else load what it holds into pts.entry.
 */
export function ptTryCmpxchgEntry(pts: PtState, hi: number, lo: number): boolean {
  const words = pts.words;
  const w = pts.base + (pts.index << 1);
  if (words[w] !== pts.entryLo || words[w + 1] !== pts.entryHi) {
    pts.entryLo = words[w]!;
    pts.entryHi = words[w + 1]!;
    return false;
  }
  words[w] = lo;
  words[w + 1] = hi;
  return true;
}

/**
 * For formats whose address field is OA bits 51:12 in place (AMDv1, x86,
 * VT-d): the installLeafRun loop. Writes up to `count` single-item leaves at
 * pts.index whose OA rises by 2^sizeLg2 (< 2^32) each — low word OA | flags,
 * high word (OA bits 63:32 & hiMask) | attrHi — stopping before an item with
 * any of presentLo/presentHi set. Returns the number written; the last one
 * is left in pts.entry.
 */
export function ptWriteLeafRun(
  pts: PtState,
  count: number,
  oaHi: number,
  oaLo: number,
  sizeLg2: number,
  flags: number,
  attrHi: number,
  hiMask: number,
  presentLo: number,
  presentHi: number,
): number {
  const words = pts.words;
  // int32 arithmetic keeps the loop in registers (2 ** n would be a double)
  const size = 1 << sizeLg2;
  const first = pts.base + (pts.index << 1);
  let w = first;
  let lo = oaLo >>> 0;
  let hi = oaHi | 0;
  let left = count;
  while (left > 0) {
    // As many as fit before the low word wraps, without a carry test each.
    let n = Math.min(left, Math.ceil((4294967296 - lo) / (size >>> 0)));
    left -= n;
    const h = (hi & hiMask) | attrHi;
    let l = lo | 0;
    if (presentHi === 0) {
      // The common case: presence is all in the low word. Four items per
      // test while they are all empty, then one by one.
      for (; n >= 4 && ((words[w]! | words[w + 2]! | words[w + 4]! | words[w + 6]!) & presentLo) === 0; n -= 4, w += 8) {
        words[w] = l | flags;
        words[w + 1] = h;
        words[w + 2] = (l + size) | flags;
        words[w + 3] = h;
        words[w + 4] = (l + 2 * size) | flags;
        words[w + 5] = h;
        words[w + 6] = (l + 3 * size) | flags;
        words[w + 7] = h;
        l = (l + 4 * size) | 0;
      }
      for (; n > 0; n--, w += 2) {
        if ((words[w]! & presentLo) !== 0) {
          left = 0;
          break;
        }
        words[w] = l | flags;
        words[w + 1] = h;
        l = (l + size) | 0;
      }
    } else {
      for (; n > 0; n--, w += 2) {
        if ((words[w]! & presentLo) !== 0 || (words[w + 1]! & presentHi) !== 0) {
          left = 0;
          break;
        }
        words[w] = l | flags;
        words[w + 1] = h;
        l = (l + size) | 0;
      }
    }
    lo = l >>> 0;
    // A chunk that reached the 2^32 boundary left l at 0: carry (l - 1 borrows only then).
    hi = (hi + u64SubBorrow(l, 1)) | 0;
  }
  if (w !== first) {
    pts.entryLo = words[w - 2]!;
    pts.entryHi = words[w - 1]!;
  }
  return (w - first) >>> 1;
}
