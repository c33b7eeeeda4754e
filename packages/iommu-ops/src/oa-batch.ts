/**
 * OaBatch: where an unmap puts the physical addresses it removes, so a
 * caller that pinned them (iommufd) can unpin without walking the table a
 * second time. Runs of (oa, length) in walk order, a run that continues the
 * last one merged into it, in fixed typed arrays made once: filling it
 * allocates nothing. When it is full the unmap stops at a leaf boundary
 * (see PtIommu.unmapRange's `oas` option) and the caller drains and goes on.
 */
import { PtError, argInt, u64AddHi, u64AddLo, u64ToBigInt, u64Value, type U64 } from '@genpt/pt-core';

/** One run of an OaBatch. */
export interface OaRun {
  oa: U64;
  len: U64;
}

export class OaBatch {
  /** Most runs it holds. */
  readonly capacity: number;
  /** Runs held now. */
  count = 0;
  /**
   * The last unmap that filled it stopped early because the next leaf
   * needed a run the batch had no room for: drain, clear and unmap the rest.
   */
  full = false;
  /** Run i is [oa, oa + len): words of the 64-bit values (int32, low and high). */
  readonly oaHi: Int32Array;
  readonly oaLo: Int32Array;
  readonly lenHi: Int32Array;
  readonly lenLo: Int32Array;

  constructor(capacity: number) {
    argInt(capacity, 1, 2 ** 24, 'OaBatch', 'capacity');
    this.capacity = capacity;
    this.oaHi = new Int32Array(capacity);
    this.oaLo = new Int32Array(capacity);
    this.lenHi = new Int32Array(capacity);
    this.lenLo = new Int32Array(capacity);
  }

  /** Empty it (keeps the capacity). */
  clear(): void {
    this.count = 0;
    this.full = false;
  }

  /**
   * Add [oa, oa + len); merged into the last run when it starts where that
   * ends. False (nothing added, `full` set) when a new run is needed and
   * there is no room.
   */
  add(oaHi: number, oaLo: number, lenHi: number, lenLo: number): boolean {
    const n = this.count;
    if (n !== 0) {
      const i = n - 1;
      const lh = this.lenHi[i]!;
      const ll = this.lenLo[i]!;
      const h = this.oaHi[i]!;
      const l = this.oaLo[i]!;
      if (u64AddLo(h, l, lh, ll) === (oaLo | 0) && u64AddHi(h, l, lh, ll) === (oaHi | 0)) {
        this.lenLo[i] = u64AddLo(lh, ll, lenHi, lenLo);
        this.lenHi[i] = u64AddHi(lh, ll, lenHi, lenLo);
        return true;
      }
      if (n === this.capacity) {
        this.full = true;
        return false;
      }
    }
    this.oaHi[n] = oaHi;
    this.oaLo[n] = oaLo;
    this.lenHi[n] = lenHi;
    this.lenLo[n] = lenLo;
    this.count = n + 1;
    return true;
  }

  /** True if a run from oa would merge into the last one (it starts where that ends). */
  continues(oaHi: number, oaLo: number): boolean {
    const i = this.count - 1;
    if (i < 0) return false;
    const h = this.oaHi[i]!;
    const l = this.oaLo[i]!;
    const lh = this.lenHi[i]!;
    const ll = this.lenLo[i]!;
    return u64AddLo(h, l, lh, ll) === (oaLo | 0) && u64AddHi(h, l, lh, ll) === (oaHi | 0);
  }

  /** OA of run i (a number when safe, else a bigint). */
  oa(i: number): U64 {
    this.check(i);
    return u64Value(this.oaHi[i]!, this.oaLo[i]!);
  }

  /** Length of run i. */
  len(i: number): U64 {
    this.check(i);
    return u64Value(this.lenHi[i]!, this.lenLo[i]!);
  }

  /** The runs as bigints, for tests and printing. */
  runs(): Array<{ oa: bigint; len: bigint }> {
    const out: Array<{ oa: bigint; len: bigint }> = [];
    for (let i = 0; i < this.count; i++) {
      out.push({ oa: u64ToBigInt(this.oaHi[i]!, this.oaLo[i]!), len: u64ToBigInt(this.lenHi[i]!, this.lenLo[i]!) });
    }
    return out;
  }

  *[Symbol.iterator](): IterableIterator<OaRun> {
    for (let i = 0; i < this.count; i++) yield { oa: this.oa(i), len: this.len(i) };
  }

  private check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.count) {
      throw new PtError('EINVAL', `OaBatch: run ${String(i)} is not one of the ${this.count} held`);
    }
  }
}
