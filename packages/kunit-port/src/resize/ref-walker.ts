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
  /** A private copy of one entry's items, where its written form is made (never in table memory). */
  private readonly scratch: PtState;
  private scratchWords = new Int32Array(0);

  constructor(readonly t: PtIommu) {
    this.pts = new PtState(new PtRange(t.common));
    this.scratch = new PtState(new PtRange(t.common));
  }

  /**
   * The attributes of the loaded leaf as map wrote them. Where the dirty
   * state lives in the permission bits (ARMv8 DBM: a clean leaf is
   * read-only until the hardware's write), a clean item's attributes are
   * read from a dirtied copy, so dirty state and attributes stay apart. Per
   * item: the items of a contiguous entry are dirtied one by one.
   */
  private writtenAttrs(pts: PtState, contigLg2: number): void {
    const fmt = this.t.fmt;
    fmt.attrFromEntry(pts, this.attrs);
    if (!fmt.hasWriteDirty) return;
    const n = 1 << contigLg2;
    const first = pts.index & ~(n - 1);
    if (this.scratchWords.length < 2 * (first + n)) this.scratchWords = new Int32Array(2 * (first + n));
    this.scratchWords.set(pts.words.subarray(pts.base + 2 * first, pts.base + 2 * (first + n)), 2 * first);
    const s = this.scratch;
    s.level = pts.level;
    s.words = this.scratchWords;
    s.base = 0;
    s.index = pts.index;
    fmt.loadEntryRaw(s);
    if (!fmt.entryMakeWriteDirty(s)) return;
    fmt.loadEntryRaw(s);
    fmt.attrFromEntry(s, this.attrs);
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
      const contigLg2 = fmt.entryNumContigLg2(pts);
      const lg2sz = isz + contigLg2;
      fmt.entryOa(pts, this.out);
      const base = u64ToBigInt(this.out.hi, this.out.lo);
      const dirty = fmt.hasWriteDirty && fmt.entryIsWriteDirty(pts);
      this.writtenAttrs(pts, contigLg2);
      return {
        kind: 'leaf',
        oa: base + (va & ((1n << BigInt(lg2sz)) - 1n)),
        attrs: u64ToBigInt(this.attrs.descriptorHi, this.attrs.descriptorLo),
        dirty,
        lg2sz,
      };
    }
  }
}
