/**
 * Which slot (see slots.ts) a format's code runs in. Each format object gets
 * its own slot, in the order formats are first used (two instances of one
 * class can differ in their constants and shape, and a shared slot would see
 * both at every call site); past the last slot they go round robin, so a
 * process with more formats than slots stays at a small polymorphic degree
 * instead of going megamorphic. Slot 0 stays with the shared tools.
 */
import type { AnyPtFormat } from './format.js';

const assigned = new WeakMap<object, number>();
let next = 0;

/** The slot for `fmt`, given `copies` slots besides slot 0 (1..copies; 0 when there are none). */
export function ptFormatSlot(fmt: AnyPtFormat, copies: number): number {
  if (copies < 1) return 0;
  let slot = assigned.get(fmt);
  if (slot === undefined) {
    slot = (next++ % copies) + 1;
    assigned.set(fmt, slot);
  }
  return slot;
}
