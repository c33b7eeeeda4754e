/**
 * The maple tree test_random_map keeps: disjoint inclusive ranges
 * [start, last], looked up by overlap. Sorted array; the test holds at most
 * a thousand ranges.
 */
export class IntervalSet {
  private readonly ranges: Array<[bigint, bigint]> = [];

  get size(): number {
    return this.ranges.length;
  }

  /** Insert [start, last]; it must not overlap a stored range (mtree_insert_range would fail). */
  insert(start: bigint, last: bigint): void {
    if (this.overlapping(start, last).length) throw new Error('IntervalSet: overlapping insert');
    let i = 0;
    while (i < this.ranges.length && this.ranges[i]![0] < start) i++;
    this.ranges.splice(i, 0, [start, last]);
  }

  overlapping(start: bigint, last: bigint): Array<[bigint, bigint]> {
    return this.ranges.filter(([s, l]) => s <= last && l >= start);
  }

  /** Remove and return, in address order, every range overlapping [start, last]. */
  takeOverlapping(start: bigint, last: bigint): Array<[bigint, bigint]> {
    const hit = this.overlapping(start, last);
    for (const r of hit) this.ranges.splice(this.ranges.indexOf(r), 1);
    return hit;
  }
}
