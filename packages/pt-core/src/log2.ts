/**
 * The kernel's pt_log2.h helpers, for 64-bit values held as hi/lo int32 words
 * (see u64.ts) and for 32-bit unsigned values (`...32`).
 *
 * Every lg2 argument may be 0..64 (0..32 for the 32-bit forms). At the top end
 * the C macros are undefined behaviour; here each helper gives the value the
 * kernel's "full VA" (fvalog2_*) variant defines: div -> 0, mod -> a,
 * div_eq -> true, set_mod -> val, set_mod_max -> all ones, to_int -> 0 (2^64
 * wraps), to_max_int -> all ones. The fvalog2* names are exported as aliases so
 * TS and C read side by side.
 */
import { ffs32, ffs64, ffz32, ffz64, fls32, fls64, maskHi, maskLo, u64ShlHi, u64ShlLo, u64ShrHi, u64ShrLo } from './u64.js';

/* ---- 2^b and 2^b - 1 ---- */

export function log2ToIntLo(b: number): number {
  return b < 32 ? 1 << b : 0;
}

export function log2ToIntHi(b: number): number {
  return b >= 32 && b < 64 ? 1 << (b - 32) : 0;
}

export const log2ToMaxIntLo = maskLo;
export const log2ToMaxIntHi = maskHi;

/* ---- a / 2^b, a * 2^b ---- */

export const log2DivLo = u64ShrLo;
export const log2DivHi = u64ShrHi;
export const log2MulLo = u64ShlLo;
export const log2MulHi = u64ShlHi;

/** a / 2^c == b / 2^c, i.e. a and b agree in every bit >= c. */
export function log2DivEq(ah: number, al: number, bh: number, bl: number, c: number): boolean {
  if (c >= 64) return true;
  const xh = ah ^ bh;
  if (c >= 32) return xh >>> (c - 32) === 0;
  return xh === 0 && (al ^ bl) >>> c === 0;
}

/* ---- a % 2^b ---- */

export function log2ModLo(_hi: number, lo: number, b: number): number {
  return lo & maskLo(b);
}

export function log2ModHi(hi: number, _lo: number, b: number): number {
  return hi & maskHi(b);
}

/** a % 2^b == 0 */
export function log2ModIsZero(hi: number, lo: number, b: number): boolean {
  return ((hi & maskHi(b)) | (lo & maskLo(b))) === 0;
}

/** a % 2^b == 2^b - 1, i.e. the low b bits are all ones. */
export function log2ModEqMax(hi: number, lo: number, b: number): boolean {
  const mh = maskHi(b);
  const ml = maskLo(b);
  return (hi & mh) === mh && (lo & ml) === ml;
}

/* ---- replace the low b bits ---- */

/** Low word of (a with its low b bits replaced by val); val must be < 2^b. */
export function log2SetModLo(_hi: number, lo: number, _vh: number, vl: number, b: number): number {
  return (lo & ~maskLo(b)) | vl;
}

export function log2SetModHi(hi: number, _lo: number, vh: number, _vl: number, b: number): number {
  return (hi & ~maskHi(b)) | vh;
}

/** Low word of a with its low b bits set to ones. */
export function log2SetModMaxLo(_hi: number, lo: number, b: number): number {
  return lo | maskLo(b);
}

export function log2SetModMaxHi(hi: number, _lo: number, b: number): number {
  return hi | maskHi(b);
}

/* ---- bit scans ---- */

export { ffs32, ffs64, ffz32, ffz64, fls32, fls64 };

/* ---- full-VA aliases (defined at lg2 == 64, see the module comment) ---- */

export const fvalog2DivLo = log2DivLo;
export const fvalog2DivHi = log2DivHi;
export const fvalog2ModLo = log2ModLo;
export const fvalog2ModHi = log2ModHi;
export const fvalog2DivEq = log2DivEq;
export const fvalog2SetModLo = log2SetModLo;
export const fvalog2SetModHi = log2SetModHi;
export const fvalog2SetModMaxLo = log2SetModMaxLo;
export const fvalog2SetModMaxHi = log2SetModMaxHi;

/* ---- 32-bit unsigned forms (table indexes, item counts) ---- */

export function log2ToInt32(b: number): number {
  return b < 32 ? (1 << b) >>> 0 : 0;
}

export function log2ToMaxInt32(b: number): number {
  return b >= 32 ? 0xffffffff : ~(-1 << b) >>> 0;
}

export function log2Div32(a: number, b: number): number {
  return b >= 32 ? 0 : a >>> b;
}

export function log2Mul32(a: number, b: number): number {
  return b >= 32 ? 0 : (a << b) >>> 0;
}

export function log2Mod32(a: number, b: number): number {
  return b >= 32 ? a >>> 0 : (a & ~(-1 << b)) >>> 0;
}

export function log2DivEq32(a: number, b: number, c: number): boolean {
  return c >= 32 || (a ^ b) >>> c === 0;
}

export function log2ModEqMax32(a: number, b: number): boolean {
  return log2Mod32(a, b) === log2ToMaxInt32(b);
}

export function log2SetMod32(a: number, val: number, b: number): number {
  return b >= 32 ? val >>> 0 : ((a & (-1 << b)) | val) >>> 0;
}

export function log2SetModMax32(a: number, b: number): number {
  return b >= 32 ? 0xffffffff : (a | ~(-1 << b)) >>> 0;
}
