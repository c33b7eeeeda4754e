/**
 * A table behind an emulated IOTLB and one hardware invalidation model: the
 * table's iotlb_sync applies the model to the cache, then checks that
 * - the gather is well formed (ordered, aligned to the smallest page size,
 *   inside the table's VA range),
 * - no cached leaf or walk entry differs from a fresh walk of the table,
 * - the tables that left the tree are exactly the gather's free list;
 * and after every op (whether it synced or not) nothing cached changed
 * without an invalidation and no table left the tree ungathered. Between
 * ops the cache holds every translation of the table, as hardware that
 * walked all of it would.
 */
import {
  IommuDirtyBitmap,
  IommuIotlbGather,
  iommuIotlbSync,
  type OaBatch,
  putPagesList,
  type PtIommu,
  type PtIommuOptions,
} from '@genpt/iommu-ops';
import { KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { typedOutcome } from '../suites/outcome.js';
import { describeStale, EmulatedIotlb } from './iotlb.js';
import type { InvalidationModel, IotlbGatherView } from './models.js';
import { readSnapshot } from './snapshot.js';
import { HitlessWatch, probesFor } from '../resize/hitless.js';

/** An invalidation the model shows to be insufficient, or a malformed gather. */
export class IotlbViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IotlbViolation';
  }
}

const hex = (v: bigint | number): string => `0x${v.toString(16)}`;

export class IotlbHarness {
  readonly priv: KunitPriv;
  readonly t: PtIommu;
  readonly iotlb = new EmulatedIotlb();
  readonly model: InvalidationModel;
  /** iotlb_sync calls checked. */
  syncs = 0;
  /** Tables freed through gathers. */
  freedTables = 0;
  /** Walks every intermediate state of cut, split and collapse. */
  readonly watch: HitlessWatch;
  private tables: Set<number>;
  /** The sync in progress is read_and_clear_dirty's (IotlbGatherView.dirtyClean). */
  private dirtyClean = false;

  /** `hitless`: the hitless features (PtIommuOptions.hitless; default both on, as a debug table may). */
  constructor(
    kf: KunitFormat,
    cfgIndex: number,
    model: InvalidationModel,
    hitless = { oaSizeChange: true, oaTableXchg: true },
    extra: Pick<PtIommuOptions, 'dirtyWholeContig' | 'reclaim'> = {},
  ) {
    this.model = model;
    this.priv = new KunitPriv(kf, cfgIndex, { domainOps: { iotlbSync: (_d, g) => this.sync(g) }, hitless, ...extra });
    this.t = this.priv.table;
    this.watch = new HitlessWatch(this.t);
    const snap = readSnapshot(this.t);
    this.tables = snap.tables;
    this.iotlb.fill(snap);
  }

  /** map_range, then the post-op check; returns the errno name of a refused map or 'ok'. */
  map(iova: bigint, pa: bigint, len: bigint, prot = 3): string {
    const code = typedOutcome(() => this.t.mapRange(iova, pa, len, prot)).code;
    this.afterOp(`map ${hex(iova)} +${hex(len)}`);
    return code;
  }

  /** unmap_range with a fresh gather, then iotlb_sync; returns the bytes unmapped. */
  unmap(iova: bigint, len: bigint): bigint {
    const g = new IommuIotlbGather();
    const r = BigInt(this.t.unmapRange(iova, len, g));
    iommuIotlbSync(this.t.domain, g);
    this.afterOp(`unmap ${hex(iova)} +${hex(len)}`);
    return r;
  }

  /** unmap_range into an OA batch (it is not cleared first), then the flush; returns the bytes unmapped. */
  unmapOas(iova: bigint, len: bigint, oas: OaBatch): bigint {
    const g = new IommuIotlbGather();
    const r = BigInt(this.t.unmapRange(iova, len, g, { oas }));
    iommuIotlbSync(this.t.domain, g);
    this.afterOp(`unmap ${hex(iova)} +${hex(len)} into an OA batch`);
    return r;
  }

  /** read_and_clear_dirty, then the flush of its gather. */
  readAndClearDirty(iova: bigint, size: bigint, flags = 0): string {
    const d = new IommuDirtyBitmap();
    const code = typedOutcome(() => this.t.readAndClearDirty(iova, size, flags, d)).code;
    this.dirtyClean = true;
    try {
      iommuIotlbSync(this.t.domain, d.gather);
    } finally {
      this.dirtyClean = false;
    }
    this.afterOp(`read_and_clear_dirty ${hex(iova)} +${hex(size)}`);
    return code;
  }

  /** The device writes through the leaf at iova: the hardware sets its dirty bit and its cached copy follows. */
  setDirty(iova: bigint): string {
    const code = typedOutcome(() => this.t.setDirty(iova)).code;
    if (code === 'ok') this.iotlb.refillLeaf(readSnapshot(this.t), iova);
    this.afterOp(`set_dirty ${hex(iova)}`);
    return code;
  }

  /** cut_mapping with a fresh gather, watched by the hitless walker, then iotlb_sync; returns 'ok' or the errno name. */
  cut(iova: bigint): string {
    return this.resizeOp(`cut ${hex(iova)}`, iova, iova, [iova], (g) => this.t.cutMapping(iova, g));
  }

  /** split_range, watched and synced like cut. */
  split(iova: bigint, len: bigint, maxPgszLg2: number): string {
    const what = `split ${hex(iova)} +${hex(len)} to 2^${maxPgszLg2}`;
    return this.resizeOp(what, iova, iova + len - 1n, [iova, iova + len], (g) => this.t.splitRange(iova, len, maxPgszLg2, g));
  }

  /** collapse_range, watched and synced like cut. */
  collapse(iova: bigint, len: bigint): string {
    return this.resizeOp(`collapse ${hex(iova)} +${hex(len)}`, iova, iova + len - 1n, [], (g) => this.t.collapseRange(iova, len, g));
  }

  /** reclaim with a fresh gather, then iotlb_sync; returns the tables freed. */
  reclaim(iova: bigint, len: bigint): number {
    const g = new IommuIotlbGather();
    const n = this.t.reclaim(iova, len, g);
    iommuIotlbSync(this.t.domain, g);
    this.afterOp(`reclaim ${hex(iova)} +${hex(len)}`);
    return n;
  }

  /** The leaves around [first, last] (the whole leaves at its ends included). */
  private spanAround(first: bigint, last: bigint): [bigint, bigint] {
    const leafAt = (va: bigint): [bigint, bigint] | undefined => {
      const tr = this.watch.walker.translate(va);
      if (tr.kind !== 'leaf') return undefined;
      const m = (1n << BigInt(tr.lg2sz)) - 1n;
      return [va & ~m, va | m];
    };
    return [leafAt(first)?.[0] ?? first, leafAt(last)?.[1] ?? last];
  }

  private resizeOp(what: string, first: bigint, last: bigint, cuts: bigint[], op: (g: IommuIotlbGather) => void): string {
    const g = new IommuIotlbGather();
    const [a, b] = this.spanAround(first, last);
    const probes = probesFor(a, b, this.priv.smallestPgszLg2, 21, cuts);
    const code = typedOutcome(() => this.watch.run(what, probes, () => op(g))).code;
    iommuIotlbSync(this.t.domain, g);
    this.afterOp(what);
    return code;
  }

  /** Free what is left and check no page leaked. */
  deinit(): void {
    this.t.deinit();
  }

  /** iotlb_sync: invalidate as the model's hardware does, then check. */
  private sync(g: IommuIotlbGather): void {
    this.syncs++;
    const view: IotlbGatherView = {
      start: BigInt(g.start),
      end: BigInt(g.end),
      freedTables: g.freelist.length,
      dirtyClean: this.dirtyClean,
    };
    this.checkGatherShape(view);
    this.model.invalidate(this.iotlb, view, { smallestPgszLg2: this.priv.smallestPgszLg2 });
    const snap = readSnapshot(this.t);
    const where = `after a ${this.model.name} invalidation of gather [${hex(view.start)}, ${hex(view.end)}] (${view.freedTables} freed tables)`;
    this.checkStale(snap, where);
    const freed = new Set(g.freelist);
    if (freed.size !== g.freelist.length) throw new IotlbViolation(`${where}: a table is on the free list twice`);
    for (const pa of this.tables) {
      if (!snap.tables.has(pa) && !freed.has(pa))
        throw new IotlbViolation(`${where}: table ${hex(pa)} left the tree but is not on the gather's free list`);
    }
    for (const pa of freed) {
      if (snap.tables.has(pa)) throw new IotlbViolation(`${where}: the gather frees table ${hex(pa)}, which the tree still reaches`);
    }
    this.freedTables += freed.size;
    putPagesList(this.priv.mem, g.freelist);
    this.tables = snap.tables;
    this.iotlb.fill(snap);
  }

  private checkGatherShape(v: IotlbGatherView): void {
    const pg = this.priv.smallestPgsz;
    const what = `gather [${hex(v.start)}, ${hex(v.end)}]`;
    if (v.start > v.end) throw new IotlbViolation(`${what} is not ordered`);
    if (v.start % pg !== 0n || (v.end + 1n) % pg !== 0n)
      throw new IotlbViolation(`${what} is not aligned to the smallest page size ${hex(pg)}`);
    for (const va of [v.start, v.end]) {
      const code = typedOutcome(() => this.t.iovaToPhys(va)).code;
      if (code !== 'ok') throw new IotlbViolation(`${what} reaches ${hex(va)}, outside the table (${code})`);
    }
  }

  private checkStale(snap: ReturnType<typeof readSnapshot>, where: string): void {
    const stale = this.iotlb.stale(snap);
    if (stale.length !== 0) {
      const more = stale.length > 1 ? ` (and ${stale.length - 1} more)` : '';
      throw new IotlbViolation(`${where}: ${describeStale(stale[0]!)}${more}`);
    }
  }

  /** Nothing changed without an invalidation; then cache the table's translations again. */
  private afterOp(op: string): void {
    const snap = readSnapshot(this.t);
    this.checkStale(snap, `after ${op} and its syncs`);
    for (const pa of this.tables) {
      if (!snap.tables.has(pa)) throw new IotlbViolation(`after ${op}: table ${hex(pa)} left the tree without a gather that frees it`);
    }
    this.tables = snap.tables;
    this.iotlb.fill(snap);
  }
}
