/**
 * Test-only switches for mutation tests: each re-introduces one known way to
 * get the IOTLB gather or a hitless change wrong, so a test can show the
 * checks (kunit-port's describeIotlbSuite and resize suite) fail on it. Never set them outside such a
 * test; all off, unmap pays one property load.
 */
export interface PtTestMutations {
  /** CVE-2026-31735: gather the length asked for, not the (larger) length an unmap into a large leaf removed. */
  gatherRequestedLength: boolean;
  /** Leave the tables an unmap freed off the gather (they are never freed, and no walk cache flush is asked for). */
  gatherDropsFreedTables: boolean;
  /** Gather one smallest page less than was unmapped. */
  gatherOnePageShort: boolean;
  /** Collapse frees a table before the leaf replacing it is stored (a walker can still reach it). */
  collapseFreesTableEarly: boolean;
  /** Cut and split leave the span of the leaf they rebuilt off the gather. */
  resizeGathersNothing: boolean;
  /** An unmap into an OA batch sizes its runs in smallest pages, whatever the item size of the level (a 2 MiB leaf listed as 4 KiB). */
  oaBatchPageSized: boolean;
}

type Name = keyof PtTestMutations;

/** The switches and whether any is on (read by unmap). */
export const ptTestMutations: Readonly<PtTestMutations> & { readonly any: boolean } = {
  gatherRequestedLength: false,
  gatherDropsFreedTables: false,
  gatherOnePageShort: false,
  collapseFreesTableEarly: false,
  resizeGathersNothing: false,
  oaBatchPageSized: false,
  any: false,
};

/** Turn one mutation on or off (tests only). */
export function setPtTestMutation(name: Name, on: boolean): void {
  const m = ptTestMutations as PtTestMutations & { any: boolean };
  if (!(name in m) || name === ('any' as Name)) throw new TypeError(`unknown mutation ${String(name)}`);
  m[name] = on;
  m.any = m.gatherRequestedLength || m.gatherDropsFreedTables || m.gatherOnePageShort;
}
