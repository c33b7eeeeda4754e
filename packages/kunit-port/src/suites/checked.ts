/**
 * The checked build (pt-core check.ts) over a format: the format's leaf
 * install runs pt_check_install_leaf_args when the table is checked, so a
 * wrong install throws a PtCheckError at the store, naming the condition; an
 * unchecked table stores it (as a production kernel would) without a test.
 */
import { PtCheckError, PtState, PtWriteAttrs, ptTopRange, U64Pair, type PtCommon } from '@genpt/pt-core';
import { PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';

/** A state on a fresh level-`level` table of `common`'s memory. */
function scratchAt(common: PtCommon, level: number): PtState {
  const range = ptTopRange(common);
  const pts = new PtState(range).init(range, level, common.mem.alloc(12));
  pts.index = 0;
  return pts;
}

function caught(fn: () => void): PtCheckError | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof PtCheckError) return e;
    throw e;
  }
  return undefined;
}

export function describeCheckedBuild(kf: KunitFormat): void {
  describe(`${kf.format.name} checked build`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it('a leaf install with a misaligned OA, a wrong size or a misaligned index throws where it is written', () => {
          const priv = new KunitPriv(kf, n);
          const common = priv.common;
          const fmt = common.fmt;
          expect(common.checked).toBe(true);
          const attrs = new PtWriteAttrs();
          const pts = scratchAt(common, 0);
          const isz = common.itemLg2sz[0]!;
          // OA not aligned to the leaf size
          let e = caught(() => fmt.installLeafEntry(pts, 0, 1 << (isz - 1), isz, attrs));
          expect(e?.check).toBe('pt_check_install_leaf_args: oalog2_mod(oa, oasz_lg2)');
          // The stack's first frame is the format's own leaf install, where the bad store was asked for.
          expect(e?.stack?.split('\n').find((l) => l.includes(' at '))).toMatch(/installLeafEntry/);
          // A size no item of level 0 holds
          e = caught(() => fmt.installLeafEntry(pts, 0, 0, isz - 1, attrs));
          expect(e?.check).toMatch(/^pt_check_install_leaf_args: (isz_lg2 > oasz_lg2|oasz_lg2 != isz_lg2)/);
          // A contiguous size at an index that is not aligned to it
          const sizesOut = new U64Pair();
          fmt.possibleSizes(pts, sizesOut);
          const sizes = sizesOut.bigint();
          const contig = [...Array(64).keys()].find((b) => b > isz && (sizes >> BigInt(b)) & 1n);
          if (contig !== undefined) {
            pts.index = 1;
            e = caught(() => fmt.installLeafEntry(pts, 0, 0, contig, attrs));
            expect(e?.check).toBe('pt_check_install_leaf_args: oalog2_mod(pts->index, oasz_lg2 - isz_lg2)');
          }
          // Nothing was written by the refused installs.
          for (let i = 0; i < 4; i++) expect(pts.itemLo(i) | pts.itemHi(i)).toBe(0);
          priv.table.deinit();
        });

        it('an unchecked table runs no check', () => {
          const priv = new KunitPriv(kf, n);
          const t = PtIommu.init(kf.format, priv.cfg, {
            debug: true,
            checked: false,
            driverOps: priv.table.driverOps,
            ...(priv.table.iommuDevice === undefined ? {} : { iommuDevice: priv.table.iommuDevice }),
          });
          expect(t.common.checked).toBe(false);
          const pts = scratchAt(t.common, 0);
          const isz = t.common.itemLg2sz[0]!;
          expect(() => kf.format.installLeafEntry(pts, 0, 1 << (isz - 1), isz, new PtWriteAttrs())).not.toThrow();
          t.deinit();
          priv.table.deinit();
        });
      });
    });
  });
}
