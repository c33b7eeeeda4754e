/** PtIommu.opState: one number, so an op's gate is one compare. */
/** Live, nothing running. */
export const PT_OP_IDLE = 0;
/** An op that changes the table is running. */
export const PT_OP_BUSY = 1;
/** Not initialised, or after deinit. */
export const PT_OP_DEAD = 2;
