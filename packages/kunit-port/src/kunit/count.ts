/** Helpers of kunit_iommu_pt.h: count leaves per size, check translations, unmap exactly. */
import {
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  U64Pair,
  ptDescend,
  ptEntryOaLg2sz,
  ptInit,
  ptIterFirst,
  ptIterLoad,
  ptNextEntry,
  ptTopRange,
  ptWalkRange,
  u64ToBigInt,
  hiOfBig,
  loOfBig,
  type PtLevelFn,
} from '@genpt/pt-core';
import { iommuUnmap } from '@genpt/iommu-ops';
import { expect } from 'vitest';
import type { KunitPriv } from './fixture.js';

/** Leaves per size (lg2) under the top range; a contiguous entry counts once. */
export function countValidsPerSize(priv: KunitPriv): number[] {
  const perSize = new Array<number>(64).fill(0);
  const fn: PtLevelFn<null> = (range, arg, level, table) => {
    const pts = ptInit(range, level, table);
    for (ptIterFirst(pts); ptIterLoad(pts); ptNextEntry(pts)) {
      if (pts.type === PT_ENTRY_TABLE) ptDescend(pts, arg, fn);
      else if (pts.type === PT_ENTRY_OA) perSize[ptEntryOaLg2sz(pts)]!++;
    }
    return 0;
  };
  expect(ptWalkRange(ptTopRange(priv.common), fn, null)).toBe(0);
  return perSize;
}

/** count_valids() */
export function countValids(priv: KunitPriv): number {
  return countValidsPerSize(priv).reduce((a, b) => a + b, 0);
}

/** count_valids_single(): only leaves of pgsz may exist; how many. */
export function countValidsSingle(priv: KunitPriv, pgsz: bigint): number {
  const per = countValidsPerSize(priv);
  let total = 0;
  per.forEach((n, i) => {
    if (1n << BigInt(i) === pgsz) total = n;
    else expect(n, `leaves of 2^${i}`).toBe(0);
  });
  return total;
}

/** do_unmap(): iommu_unmap must remove exactly len. */
export function doUnmap(priv: KunitPriv, va: bigint, len: bigint): void {
  const got = BigInt(iommuUnmap(priv.table.domain, va, len));
  // (vitest's expect is slow enough to matter in the kernel's long loops)
  if (got !== len) expect(got, `unmap(0x${va.toString(16)}, 0x${len.toString(16)})`).toBe(len);
}

const out = new U64Pair();

/** check_iova(): every smallest page of [va, va + len) translates to pa + offset. */
export function checkIova(priv: KunitPriv, va: bigint, pa: bigint, len: bigint): void {
  const t = priv.table;
  const step = Number(priv.smallestPgsz);
  const pages = Number(len >> BigInt(priv.smallestPgszLg2));
  let vh = hiOfBig(va);
  let vl = loOfBig(va);
  let ph = hiOfBig(pa);
  let pl = loOfBig(pa);
  for (let i = 0; i < pages; i++) {
    t.iovaToPhysWords(vh, vl, out);
    if (out.hi !== ph || out.lo !== pl) {
      expect(u64ToBigInt(out.hi, out.lo), `iova_to_phys(0x${u64ToBigInt(vh, vl).toString(16)})`).toBe(u64ToBigInt(ph, pl));
    }
    const nvl = (vl + step) | 0;
    if (nvl >>> 0 < vl >>> 0) vh = (vh + 1) | 0;
    vl = nvl;
    const npl = (pl + step) | 0;
    if (npl >>> 0 < pl >>> 0) ph = (ph + 1) | 0;
    pl = npl;
  }
}
