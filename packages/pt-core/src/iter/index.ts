/** One slot's per-format code (see ../slots.ts): everything here is copied per format at build time. */
export { ptEntryOps, type PtEntryFormat, type PtEntryOps } from './entry-ops.js';
