/**
 * @genpt/pt-core/internal: the plumbing genpt's own algorithm packages share
 * with pt-core and that a format or a tool never needs: the per-format slots
 * and their assignment, the bindable iteration primitives, and the checked
 * build's bookkeeping. Not covered by semver.
 */
export { ptIterSlots, type PtIterSlot } from './slots.js';
export { ptFormatSlot } from './slot-index.js';
export { ptEntryOps, type PtEntryFormat } from './iter/entry-ops.js';
export { ptCheckedDefault, ptWarned } from './check.js';
export { ptCheckBestPgsize } from './pgsize.js';
