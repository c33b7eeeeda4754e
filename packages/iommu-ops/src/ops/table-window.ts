/**
 * The table-by-table walks of collapse and reclaim (over whole tables, not
 * pt_range windows): where the top table starts and which items of a table
 * at VA tva a range [first, last] reaches. Bigints: these ops are per table,
 * never per page.
 */
import type { PtCommon } from '@genpt/pt-core';

/** VA of the top table's first item for a range starting at first (sign bits included). */
export function topTableVa(common: PtCommon, first: bigint): bigint {
  const spanLg2 = common.topSpanLg2;
  return spanLg2 >= 64 ? 0n : first & ~((1n << BigInt(spanLg2)) - 1n);
}

/** log2 of the top table's items. */
export function topItemsLg2(common: PtCommon): number {
  return common.topSpanLg2 - common.itemLg2sz[common.topLevel]!;
}

/** First item of the table at tva (2^isz bytes each) that [first, ...] reaches. */
export function firstItem(first: bigint, tva: bigint, isz: number): number {
  return first <= tva ? 0 : Number((first - tva) >> BigInt(isz));
}

/** Last item of the table at tva (2^itemsLg2 items of 2^isz bytes) that [..., last] reaches. */
export function lastItem(last: bigint, tva: bigint, isz: number, itemsLg2: number): number {
  const tlast = tva + (1n << BigInt(isz + itemsLg2)) - 1n;
  return last >= tlast ? (1 << itemsLg2) - 1 : Number((last - tva) >> BigInt(isz));
}
