/**
 * Page size selection (pt_iter.h): the largest allowed leaf size for a VA/OA
 * pair and remaining length, and how many leaves of that size to place
 * before the size must change. Bitmaps are u64 (bit n = a 2^n page), so they
 * travel as hi/lo words like every other 64-bit value.
 */
import { ptCheckFailed } from './check.js';
import { log2DivEq } from './log2.js';
import { ffs64, fls64, maskHi, maskLo, u64AddHi, u64AddLo, u64IncHi, u64IncLo, u64Lt, u64ShrToNumber, u64SubHi, u64SubLo } from './u64.js';

/**
 * pt_compute_best_pgsize(): lg2 of the largest size in the bitmap at which
 * va and oa are both aligned and that fits in [va, last]; 0 if none (or if
 * va >= last, which the kernel treats as a caller bug).
 */
export function ptComputeBestPgsize(
  bitmapHi: number,
  bitmapLo: number,
  vaHi: number,
  vaLo: number,
  lastHi: number,
  lastLo: number,
  oaHi: number,
  oaLo: number,
): number {
  if (!u64Lt(vaHi, vaLo, lastHi, lastLo)) return 0;
  // len = last - va + 1; it wraps to 0 only for the whole 2^64 space
  const dHi = u64SubHi(lastHi, lastLo, vaHi, vaLo);
  const dLo = u64SubLo(lastHi, lastLo, vaHi, vaLo);
  const lenLo = u64IncLo(dHi, dLo);
  const lenHi = u64IncHi(dHi, dLo);

  // Alignment of va and oa, capped by the largest power of two <= len.
  // (for 2^64 the kernel's shift by fls(0) - 1 lands on bit 63 on x86)
  const top = (lenHi | lenLo) === 0 ? 63 : fls64(lenHi, lenLo) - 1;
  let maskH = vaHi | oaHi;
  let maskL = vaLo | oaLo;
  if (top >= 32) maskH |= 1 << (top - 32);
  else maskL |= 1 << top;
  const best = ffs64(maskH, maskL);

  let bh = bitmapHi;
  let bl = bitmapLo;
  if (best < 63) {
    bh &= maskHi(best + 1);
    bl &= maskLo(best + 1);
  }
  const fl = fls64(bh, bl);
  return fl === 0 ? 0 : fl - 1;
}

/**
 * pt_pgsz_count(): how many 2^pgsizeLg2 leaves to map from va before a
 * larger size in the bitmap becomes usable (va and oa equally aligned to it)
 * or the range ends. The count is < 2^53 for any real page size.
 */
export function ptPgszCount(
  bitmapHi: number,
  bitmapLo: number,
  vaHi: number,
  vaLo: number,
  lastHi: number,
  lastLo: number,
  oaHi: number,
  oaLo: number,
  pgsizeLg2: number,
): number {
  // len = last - va + 1 (wraps to 0 only for the whole 2^64 space)
  const dHi = u64SubHi(lastHi, lastLo, vaHi, vaLo);
  const dLo = u64SubLo(lastHi, lastLo, vaHi, vaLo);
  let lenHi = u64IncHi(dHi, dLo);
  let lenLo = u64IncLo(dHi, dLo);

  // Sizes above pgsizeLg2 still allowed by the bitmap.
  const nh = bitmapHi & ~maskHi(pgsizeLg2 + 1);
  const nl = bitmapLo & ~maskLo(pgsizeLg2 + 1);
  if ((nh | nl) !== 0) {
    const next = ffs64(nh, nl);
    if ((((vaHi ^ oaHi) & maskHi(next)) | ((vaLo ^ oaLo) & maskLo(next))) === 0) {
      // Distance to the next 2^next boundary: set_mod_max(va, next) - va + 1
      const eHi = vaHi | maskHi(next);
      const eLo = vaLo | maskLo(next);
      const gHi = u64SubHi(eHi, eLo, vaHi, vaLo);
      const gLo = u64SubLo(eHi, eLo, vaHi, vaLo);
      const rHi = u64IncHi(gHi, gLo);
      const rLo = u64IncLo(gHi, gLo);
      if (u64Lt(rHi, rLo, lenHi, lenLo)) {
        lenHi = rHi;
        lenLo = rLo;
      }
    }
  }
  return u64ShrToNumber(lenHi, lenLo, pgsizeLg2);
}

/** pt_pgsz_lg2_to_level() default, with the kernel's unsigned arithmetic. */
export function ptDefaultPgszLg2ToLevel(granuleLg2sz: number, tablememLg2sz: number, itemWordLg2: number, pgsizeLg2: number): number {
  return Math.floor(((pgsizeLg2 - granuleLg2sz) >>> 0) / (tablememLg2sz - itemWordLg2));
}

/**
 * The checked build's postconditions of {@link ptComputeBestPgsize} (the
 * PT_WARN_ONs at its end): a non-zero result is a size va and oa are aligned
 * to and that fits in [va, last] without crossing a boundary of its size.
 */
export function ptCheckBestPgsize(
  vaHi: number,
  vaLo: number,
  lastHi: number,
  lastLo: number,
  oaHi: number,
  oaLo: number,
  pgszLg2: number,
): void {
  if (pgszLg2 === 0) return;
  const m1Hi = maskHi(pgszLg2);
  const m1Lo = maskLo(pgszLg2);
  if (((vaHi & m1Hi) | (vaLo & m1Lo)) !== 0) ptCheckFailed('pt_compute_best_pgsize: log2_mod(va, pgsz_lg2) != 0');
  if (((oaHi & m1Hi) | (oaLo & m1Lo)) !== 0) ptCheckFailed('pt_compute_best_pgsize: oalog2_mod(oa, pgsz_lg2) != 0');
  // end = va + 2^pgsz - 1
  const endHi = u64AddHi(vaHi, vaLo, m1Hi, m1Lo);
  const endLo = u64AddLo(vaHi, vaLo, m1Hi, m1Lo);
  if (u64Lt(lastHi, lastLo, endHi, endLo)) ptCheckFailed('pt_compute_best_pgsize: va + log2_to_int(pgsz_lg2) - 1 > last_va');
  if (!log2DivEq(vaHi, vaLo, endHi, endLo, pgszLg2)) ptCheckFailed('pt_compute_best_pgsize: !log2_div_eq(va, end, pgsz_lg2)');
  const oEndHi = u64AddHi(oaHi, oaLo, m1Hi, m1Lo);
  const oEndLo = u64AddLo(oaHi, oaLo, m1Hi, m1Lo);
  if (!log2DivEq(oaHi, oaLo, oEndHi, oEndLo, pgszLg2)) ptCheckFailed('pt_compute_best_pgsize: !oalog2_div_eq(oa, end, pgsz_lg2)');
}
