/**
 * Test-only switches for mutation tests: each re-introduces one known way to
 * get the IOTLB gather wrong, so a test can show the invalidation checks
 * (kunit-port's describeIotlbSuite) fail on it. Never set them outside such a
 * test; all off, unmap pays one property load.
 */
export interface PtTestMutations {
  /** CVE-2026-31735: gather the length asked for, not the (larger) length an unmap into a large leaf removed. */
  gatherRequestedLength: boolean;
  /** Leave the tables an unmap freed off the gather (they are never freed, and no walk cache flush is asked for). */
  gatherDropsFreedTables: boolean;
  /** Gather one smallest page less than was unmapped. */
  gatherOnePageShort: boolean;
}

type Name = keyof PtTestMutations;

/** The switches and whether any is on (read by unmap). */
export const ptTestMutations: Readonly<PtTestMutations> & { readonly any: boolean } = {
  gatherRequestedLength: false,
  gatherDropsFreedTables: false,
  gatherOnePageShort: false,
  any: false,
};

/** Turn one mutation on or off (tests only). */
export function setPtTestMutation(name: Name, on: boolean): void {
  const m = ptTestMutations as PtTestMutations & { any: boolean };
  if (!(name in m) || name === ('any' as Name)) throw new TypeError(`unknown mutation ${String(name)}`);
  m[name] = on;
  m.any = m.gatherRequestedLength || m.gatherDropsFreedTables || m.gatherOnePageShort;
}
