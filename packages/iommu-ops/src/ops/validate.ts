/**
 * validate: check that the table's structure is sound before trusting it —
 * for a table an emulator loaded from guest memory or restored from a
 * snapshot, where a table pointer may lead outside the table memory or to a
 * page never allocated. Walks every table from the top and checks that each
 * is an allocated block of its level's size, reached once. deinit uses the
 * same walk to free only sound tables from a corrupted one.
 */
import { PT_ENTRY_TABLE, PtError, PtRange, PtState, ptAllRange, ptIterFirst, u64ToBigInt, type AnyPtFormat } from '@genpt/pt-core';
import { definePtOp } from '../op.js';
import type { PtIommu } from '../pt-iommu.js';

/** One thing wrong with a table's structure. */
export interface PtTableProblem {
  /** Level of the table holding the bad pointer (the top's level for the top itself). */
  level: number;
  /** Index of the bad item in that table (-1: the top pointer). */
  index: number;
  /** VA the bad item covers (sign extension not applied). */
  va: bigint;
  /** The PA it points at. */
  pa: number;
  message: string;
}

export class ValidateState {
  readonly range: PtRange;
  readonly pts: PtState;
  /** Tables found sound, in pre-order (what deinit frees). */
  readonly tables: number[] = [];
  /** The level of each of {@link tables} (what preserve records). */
  readonly levels: number[] = [];
  readonly problems: PtTableProblem[] = [];
  private readonly seen = new Set<number>();

  constructor(t: PtIommu) {
    this.range = new PtRange(t.common);
    this.pts = new PtState(this.range);
  }

  reset(): void {
    this.tables.length = 0;
    this.levels.length = 0;
    this.problems.length = 0;
    this.seen.clear();
  }

  /** Whether pa is a table to walk; records the problem otherwise. */
  accept(t: PtIommu, level: number, index: number, va: bigint, pa: number, bytesLg2: number): boolean {
    const mem = t.common.mem;
    const hex = `0x${pa.toString(16)}`;
    let message = '';
    if (!Number.isSafeInteger(pa) || !mem.contains(pa)) message = `${hex} is outside the table memory`;
    else if (mem.blockLg2(pa) < 0) message = `${hex} is not an allocated table`;
    else if (mem.blockLg2(pa) < bytesLg2) message = `${hex} is a ${2 ** mem.blockLg2(pa)} byte block, smaller than the table`;
    else if (this.seen.has(pa)) message = `${hex} is reached twice`;
    if (message !== '') {
      const where = index < 0 ? `the top (level ${level})` : `level ${level} index ${index} (va 0x${va.toString(16)})`;
      this.problems.push({ level, index, va, pa, message: `${where} points at ${message}` });
      return false;
    }
    this.seen.add(pa);
    this.tables.push(pa);
    return true;
  }
}

/** Fill st with the sound tables and the problems; returns the number of problems. */
export type ValidateWalk = (t: PtIommu, st: ValidateState) => number;

export const validateOp = definePtOp({
  name: 'validate',
  newState: (t: PtIommu) => new ValidateState(t),
  build(fmt: AnyPtFormat): ValidateWalk {
    return function validate(t, st) {
      const common = t.common;
      st.reset();
      const top = ptAllRange(common, st.range);
      const pts = st.pts;
      pts.init(top, top.topLevel, top.topTable);
      ptIterFirst(pts);
      const topBytesLg2 = Math.max(12, Math.ceil(Math.log2(pts.endIndex * fmt.itemWordSize)));
      // Pre-order by index, as collect walks (deinit frees st.tables in this
      // order); an explicit stack so a deep or looping table cannot overflow.
      // Each entry: the pointer's level, index (-1: the top) and VA, the table
      // it names, its expected size, and the window of items to scan.
      const stack: Array<[level: number, index: number, va: bigint, pa: number, bytesLg2: number, first: number, end: number]> = [
        [top.topLevel, -1, u64ToBigInt(top.vaHi, top.vaLo), top.topTable, topBytesLg2, pts.index, pts.endIndex],
      ];
      while (stack.length !== 0) {
        const [ptrLevel, index, va, pa, bytesLg2, first, end] = stack.pop()!;
        if (!st.accept(t, ptrLevel, index, va, pa, bytesLg2)) continue;
        // The table's own level: the top's, or one below the pointer's.
        const level = index < 0 ? ptrLevel : ptrLevel - 1;
        st.levels.push(level);
        if (level === 0) continue;
        pts.init(top, level, pa);
        const isz = BigInt(common.itemLg2sz[level]!);
        const n = common.numItemsLg2[level - 1]!;
        const childBytesLg2 = Math.max(12, common.tableBytesLg2(level - 1));
        const mark = stack.length;
        for (let i = first; i < end; i++) {
          pts.index = i;
          if ((pts.itemLo(i) | pts.itemHi(i)) === 0 || fmt.loadEntryRaw(pts) !== PT_ENTRY_TABLE) continue;
          stack.push([level, i, va + (BigInt(i) << isz), fmt.tablePa(pts), childBytesLg2, 0, 2 ** n]);
        }
        // Lowest index on top of the stack.
        stack.push(...stack.splice(mark).reverse());
      }
      return st.problems.length;
    };
  },
  methods: {
    /**
     * Check the table's structure: every table pointer leads to an allocated
     * block of the right size inside the table memory, reached once. Throws
     * EFAULT naming the first bad pointer (and how many there are); run it
     * before using a table built or restored from outside.
     */
    validate(): void {
      this.opCheckLive();
      const st = this.states.validate;
      const n = this.walks.validate(this, st);
      if (n !== 0) {
        const more = n > 1 ? ` (and ${n - 1} more)` : '';
        throw new PtError('EFAULT', `validate: ${st.problems[0]!.message}${more}`);
      }
    },

    /** Every structural problem validate() would report (empty for a sound table). */
    tableProblems(): PtTableProblem[] {
      this.opCheckLive();
      const st = this.states.validate;
      this.walks.validate(this, st);
      return [...st.problems];
    },
  },
});
