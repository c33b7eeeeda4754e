/**
 * The ops' per-format copies (see @genpt/pt-core slots.ts): the build copies
 * the compiled ops/ directory N times (scripts/slot-copies.mjs) and
 * dist/slots.js lists the original and every copy. This source lists only
 * the original.
 */
import * as ops from './ops/index.js';

export type PtOpsSlot = typeof ops;

export const ptOpsSlots: readonly PtOpsSlot[] = [ops];
