/**
 * A reference walker for the hitless checks: it translates one VA the way
 * hardware would, reading table memory directly through the format's
 * decoders only (loadEntryRaw, tablePa, entryOa, entryNumContigLg2,
 * attrFromEntry), with its own index arithmetic in bigints and none of the
 * walk, iteration or op code it is checking. A table pointer to memory that
 * is not an allocated table (freed too early, or never allocated) is a
 * fault, as a DMA into freed memory would be.
 */
import { PT_ENTRY_EMPTY, PT_ENTRY_OA, PT_ENTRY_TABLE, PtRange, PtState, PtWriteAttrs, U64Pair, u64ToBigInt } from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';

export type RefTranslation =
  | { kind: 'leaf'; oa: bigint; attrs: bigint; dirty: boolean; lg2sz: number }
  | { kind: 'empty' }
  | { kind: 'fault'; why: string };

const M64 = (1n << 64n) - 1n;

export class RefWalker {
  private readonly pts: PtState;
  private readonly out = new U64Pair();
  private readonly attrs = new PtWriteAttrs();

  constructor(readonly t: PtIommu) {
    this.pts = new PtState(new PtRange(t.common));
  }

  translate(va: bigint): RefTranslation {
    const t = this.t;
    const common = t.common;
    const fmt = t.fmt;
    const mem = common.mem;
    let level = common.topLevel;
    let table = common.topTable;
    let itemsLg2 = common.topSpanLg2 - common.itemLg2sz[level]!;
    for (;;) {
      if (mem.blockLg2(table) < 0) return { kind: 'fault', why: `level ${level} table 0x${table.toString(16)} is not an allocated table` };
      const isz = common.itemLg2sz[level]!;
      const index = Number(((va & M64) >> BigInt(isz)) & ((1n << BigInt(itemsLg2)) - 1n));
      const pts = this.pts;
      pts.level = level;
      pts.setTable(table);
      pts.index = index;
      const type = fmt.loadEntryRaw(pts);
      if (type === PT_ENTRY_EMPTY) return { kind: 'empty' };
      if (type === PT_ENTRY_TABLE) {
        if (level === 0) return { kind: 'fault', why: 'a table pointer at level 0' };
        table = fmt.tablePa(pts);
        level--;
        itemsLg2 = common.numItemsLg2[level]!;
        continue;
      }
      if (type !== PT_ENTRY_OA) return { kind: 'fault', why: `entry type ${type}` };
      const lg2sz = isz + fmt.entryNumContigLg2(pts);
      fmt.entryOa(pts, this.out);
      const base = u64ToBigInt(this.out.hi, this.out.lo);
      fmt.attrFromEntry(pts, this.attrs);
      return {
        kind: 'leaf',
        oa: base + (va & ((1n << BigInt(lg2sz)) - 1n)),
        attrs: u64ToBigInt(this.attrs.descriptorHi, this.attrs.descriptorLo),
        dirty: fmt.hasWriteDirty && fmt.entryIsWriteDirty(pts),
        lg2sz,
      };
    }
  }
}
