/**
 * Where the live-table suites (IOTLB, OA batch, reclaim, preserve) work and
 * what their random sequences share: a base VA where every page size they
 * use up to 2 GiB is aligned, a window of WINDOW_PAGES smallest pages from
 * it, the generators of a map and of an unmap in the window, and where a
 * generated map lands.
 */
import type { PtIommu } from '@genpt/iommu-ops';
import { type IntervalMap, ptTopRange, u64ToBigInt } from '@genpt/pt-core';
import fc from 'fast-check';
import { expect } from 'vitest';

/** Smallest pages in the window of the random sequences. */
export const WINDOW_PAGES = 4096;

/**
 * A VA 2^lg2 past the table's first VA, or a quarter of the table's widest
 * VA span if that is nearer (DART v1 has 30 bits): where the suites put
 * their mappings, past page 0, far enough in that a DYNAMIC_TOP table grows.
 */
export function vaInto(t: PtIommu, lg2: number): bigint {
  return firstVa(t) + (1n << BigInt(Math.min(lg2, t.common.maxVaszLg2 - 2)));
}

/** The table's first VA (of the lower half with SIGN_EXTEND). */
export function firstVa(t: PtIommu): bigint {
  const top = ptTopRange(t.common);
  return u64ToBigInt(top.vaHi, top.vaLo);
}

/** An OA of 2^lg2, or of a quarter of the table's OA width if that is lower (DART v1 has 36 bits). */
export function oaInto(t: PtIommu, lg2: number): bigint {
  return 1n << BigInt(Math.min(lg2, t.common.maxOaszLg2 - 2));
}

/** Where the suites' OAs start: 2^34, or oaInto's quarter of a narrower OA width (the ARMv7 short descriptor's 32 bits). */
export function oaBase(t: PtIommu): bigint {
  return oaInto(t, 34);
}

/** The distance between the suites' unrelated OA slots: 1 GiB, less in a narrow OA width (eight of them fit above oaBase). */
export function oaStride(t: PtIommu): bigint {
  return 1n << BigInt(Math.min(30, t.common.maxOaszLg2 - 5));
}

/** The table's first VA plus 2^31 (vaInto). */
export function windowBase(t: PtIommu): bigint {
  return vaInto(t, 31);
}

export interface WindowMap {
  op: 'map';
  page: number;
  pages: number;
  align: number;
}

/**
 * The fields of a random map: a start page (aligned down to `align` pages,
 * so large leaves form), a few pages or one of `largePages`.
 */
export function windowMapFields(largePages: readonly number[] = [16, 512, 1024]) {
  return {
    op: fc.constant('map' as const),
    page: fc.nat(WINDOW_PAGES - 1),
    pages: fc.oneof(fc.integer({ min: 1, max: 8 }), fc.constantFrom(...largePages)),
    align: fc.constantFrom(1, 16, 512),
  };
}

export interface WindowUnmap {
  op: 'unmap';
  page: number;
  pages: number;
}

/** The fields of a random unmap: any start page, up to `maxPages` pages. */
export function windowUnmapFields(maxPages: number) {
  return { op: fc.constant('unmap' as const), page: fc.nat(WINDOW_PAGES - 1), pages: fc.integer({ min: 1, max: maxPages }) };
}

/** The VA of page `page` of the window. */
export function windowVa(base: bigint, pg: bigint, page: number | bigint): bigint {
  return base + BigInt(page) * pg;
}

/**
 * Where a map of `pages` at `va` lands: its length clipped to the window;
 * undefined when nothing is left or it would overlap what `model` holds.
 */
export function windowSpan(model: IntervalMap, base: bigint, pg: bigint, va: bigint, pages: number): bigint | undefined {
  const end = base + BigInt(WINDOW_PAGES) * pg;
  let len = BigInt(pages) * pg;
  if (va + len > end) len = end - va;
  if (len <= 0n || model.overlaps(va, va + len - 1n)) return undefined;
  return len;
}

/** The VA a generated map starts at: its page aligned down to its alignment. */
export function windowMapVa(base: bigint, pg: bigint, o: WindowMap): bigint {
  const a = BigInt(o.align);
  return base + (BigInt(o.page) / a) * a * pg;
}

/** Every mapped range's first and last page translate as the model says. */
export function expectModelTranslations(t: PtIommu, model: IntervalMap, pg: bigint): void {
  for (const m of model) {
    for (const va of [m.start, m.last & ~(pg - 1n)])
      expect(BigInt(t.iovaToPhys(va)), `iova_to_phys 0x${va.toString(16)}`).toBe(m.oa + (va - m.start));
  }
}
