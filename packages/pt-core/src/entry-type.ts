/** What a loaded item is (the kernel's enum pt_entry_type). */
export const PT_ENTRY_EMPTY = 0;
/** Valid, points to a lower table level. */
export const PT_ENTRY_TABLE = 1;
/** Valid, produces an output address (a leaf). */
export const PT_ENTRY_OA = 2;

export type PtEntryType = typeof PT_ENTRY_EMPTY | typeof PT_ENTRY_TABLE | typeof PT_ENTRY_OA;
