/**
 * Per-format copies of the code that calls into a format ("slots").
 *
 * V8 keeps type feedback per function literal: one walker serving several
 * formats sees them all at its call sites and goes megamorphic (an order of
 * magnitude slower per entry, DESIGN.md). The kernel compiles its generic
 * code once per format; genpt's build copies the compiled directories that
 * call format functions (pt-core's iter/, iommu-ops' ops/) N times,
 * byte for byte (scripts/slot-copies.mjs), and {@link ptFormatSlot} gives
 * each format its own copy. Copies keep their source maps, so
 * debuggers, stack traces and coverage point at the one TypeScript source.
 *
 * This source lists only the original; the build's dist/slots.js lists the
 * original and every copy.
 */
import * as iter from './iter/index.js';

/** The per-format code of one slot. */
export type PtIterSlot = typeof iter;

/** Slot 0 (the original, shared by tools that take any format) and the copies. */
export const ptIterSlots: readonly PtIterSlot[] = [iter];
