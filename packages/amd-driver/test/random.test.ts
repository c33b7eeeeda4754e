/**
 * Random map / unmap / attach / DMA sequences through the driver API, with
 * every DMA's outcome (bytes moved, data read, fault address and flags, the
 * event logged) checked against a reference: pt-core's interval map of what
 * was mapped and a byte map of memory. IOVAs are drawn from regions that make a
 * v1 table grow from 3 to 6 levels, and alignments that produce 4 KiB,
 * contiguous and 2 MiB leaves.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IntervalMap, isPtError, type IntervalMapRange } from '@genpt/pt-core';
import { IOMMU_HWPT_ALLOC_PASID, type DmaResult } from '../dist/index.js';
import { machine, pattern, skipFlushes } from './helpers.js';

/** Reference memory: sparse bytes, zero until written. */
class RefMemory {
  private readonly pages = new Map<bigint, Uint8Array>();

  read(pa: bigint, len: number): Uint8Array {
    const out = new Uint8Array(len);
    for (let i = 0; i < len; i++) out[i] = this.pages.get((pa + BigInt(i)) >> 12n)?.[Number((pa + BigInt(i)) & 0xfffn)] ?? 0;
    return out;
  }

  write(pa: bigint, data: Uint8Array): void {
    for (let i = 0; i < data.length; i++) {
      const a = pa + BigInt(i);
      let p = this.pages.get(a >> 12n);
      if (p === undefined) {
        p = new Uint8Array(4096);
        this.pages.set(a >> 12n, p);
      }
      p[Number(a & 0xfffn)] = data[i]!;
    }
  }
}

type Op =
  | { kind: 'map'; region: number; slot: number; align: number; count: number; oaSlot: number; prot: number }
  | { kind: 'unmap'; pick: number }
  | { kind: 'unmapHole'; region: number; slot: number; pages: number }
  | { kind: 'dma'; dev: number; target: number; offset: number; len: number; write: boolean; seed: number }
  | { kind: 'toggle'; dev: number }
  | { kind: 'probe'; region: number; slot: number; offset: number };

const opArb = (regions: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('map' as const),
        region: fc.nat({ max: regions - 1 }),
        slot: fc.nat({ max: 31 }),
        align: fc.constantFrom(12, 12, 16, 21),
        count: fc.integer({ min: 1, max: 4 }),
        oaSlot: fc.nat({ max: 63 }),
        prot: fc.constantFrom(1, 2, 3, 3),
      }),
    },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('unmap' as const), pick: fc.nat() }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('unmapHole' as const),
        region: fc.nat({ max: regions - 1 }),
        slot: fc.nat({ max: 31 }),
        pages: fc.integer({ min: 1, max: 8 }),
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        kind: fc.constant('dma' as const),
        dev: fc.nat({ max: 1 }),
        // Near something mapped now or before (so stale translations get used), or anywhere.
        target: fc.nat(),
        offset: fc.oneof(
          { weight: 6, arbitrary: fc.integer({ min: 0, max: 0x3fff }) },
          { weight: 2, arbitrary: fc.integer({ min: -0x2000, max: 0x12000 }) },
          { weight: 1, arbitrary: fc.integer({ min: 0, max: 1 << 23 }) },
        ),
        len: fc.oneof(
          { weight: 3, arbitrary: fc.integer({ min: 1, max: 512 }) },
          { weight: 1, arbitrary: fc.integer({ min: 1, max: 9000 }) },
        ),
        write: fc.boolean(),
        seed: fc.nat(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('toggle' as const), dev: fc.nat({ max: 1 }) }) },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('probe' as const),
        region: fc.nat({ max: regions - 1 }),
        slot: fc.nat({ max: 31 }),
        offset: fc.nat({ max: (1 << 22) - 1 }),
      }),
    },
  );

const OA_BASE = 0x100000000n;
/** How much the sequences exercised (a sanity check that DMAs do hit mappings). */
const stats = { dmas: 0, ok: 0 };
const DEVS = [0x10, 0x21];

interface Flavour {
  name: string;
  regions: bigint[];
  /** x86 entries have no read permission bit: present means readable. */
  presentIsReadable: boolean;
  features?: Parameters<typeof machine>[0];
  flags: number;
}

/** Run one op sequence; throws (an assertion) at the first disagreement with the reference. */
function runSequence(f: Flavour, ops: Op[], double = false): void {
  const s = machine({ ...(f.features ?? {}), tableMemory: { maxBytes: 1 << 24 } });
  const iommu = s.driver.iommus[0]!;
  const devs = DEVS.map((d) => s.driver.probeDevice(0, d));
  const domain = s.driver.domainAllocPaging(devs[0]!, f.flags);
  for (const d of devs) domain.attachDev(d);
  if (double) skipFlushes(domain, Infinity);
  const attached = [true, true];
  const ref = new IntervalMap();
  const mem = new RefMemory();
  /** Every interval ever mapped: DMA aims near them. */
  const seen: IntervalMapRange[] = [];
  const slotIova = (region: number, slot: number, align: number): bigint => f.regions[region]! + (BigInt(slot) << BigInt(align));

  for (const op of ops) {
    switch (op.kind) {
      case 'map': {
        const iova = slotIova(op.region, op.slot, op.align);
        const len = BigInt(op.count) << BigInt(op.align);
        const oa = OA_BASE + (BigInt(op.oaSlot) << BigInt(op.align));
        const busy = ref.overlaps(iova, iova + len - 1n);
        let err: unknown = null;
        try {
          domain.map(iova, oa, len, op.prot);
        } catch (e) {
          err = e;
        }
        if (busy) {
          expect(isPtError(err, 'EADDRINUSE'), `map over a mapping: ${String(err)}`).toBe(true);
        } else {
          expect(err).toBeNull();
          seen.push(ref.map(iova, iova + len - 1n, oa, op.prot));
        }
        break;
      }
      case 'unmap': {
        if (ref.size === 0) break;
        const m = [...ref][op.pick % ref.size]!;
        const len = m.last - m.start + 1n;
        expect(BigInt(domain.unmap(m.start, len))).toBe(len);
        ref.remove(m);
        break;
      }
      case 'unmapHole': {
        const iova = slotIova(op.region, op.slot, 21) + 0x1000n;
        if (ref.find(iova) !== undefined) break;
        // Unmap stops at the first hole: starting in one removes nothing.
        expect(domain.unmap(iova, op.pages * 0x1000)).toBe(0);
        break;
      }
      case 'toggle': {
        const dev = devs[op.dev]!;
        if (attached[op.dev]) s.driver.blockDevice(dev);
        else domain.attachDev(dev);
        attached[op.dev] = !attached[op.dev];
        break;
      }
      case 'probe': {
        const iova = slotIova(op.region, op.slot, 21) + BigInt(op.offset);
        const hit = ref.find(iova);
        let got: bigint;
        try {
          got = BigInt(domain.iovaToPhys(iova));
        } catch (e) {
          expect(isPtError(e, 'ERANGE')).toBe(true); // above the current top
          got = 0n;
        }
        expect(got).toBe(hit === undefined ? 0n : hit.oa);
        break;
      }
      case 'dma': {
        const base = seen.length === 0 ? f.regions[op.target % f.regions.length]! : seen[op.target % seen.length]!.start;
        let iova = base + BigInt(op.offset);
        if (iova < 0n) iova = 0n;
        if (iova + BigInt(op.len) > 1n << 64n) iova = (1n << 64n) - BigInt(op.len);
        stats.dmas++;
        const data = op.write ? pattern(op.len, op.seed) : undefined;
        const got = s.hw.dma(DEVS[op.dev]!, iova, op.len, op.write, data);
        const want = expectDma(ref, f.presentIsReadable, mem, attached[op.dev]!, iova, op.len, op.write, data);
        expect(summary(got), `dma ${op.write ? 'write' : 'read'} dev ${op.dev} at 0x${iova.toString(16)} +${op.len}`).toEqual(want.summary);
        if (!op.write) expect(got.data).toEqual(want.data);
        const events = iommu.pollEvents();
        if (got.ok) stats.ok++;
        if (got.ok) expect(events).toEqual([]);
        else {
          expect(events).toHaveLength(1);
          expect(events[0]).toMatchObject({
            name: 'IO_PAGE_FAULT',
            deviceId: DEVS[op.dev],
            address: got.fault!.address,
            flags: got.fault!.flags,
          });
        }
        break;
      }
    }
  }
  expect(s.hw.staleHits).toEqual([]);
  expect(s.driver.warnings).toEqual([]);
  for (const d of devs) s.driver.blockDevice(d);
  domain.free();
  expect(s.tables.pagesInUse).toBe(iommu.structurePages);
}

interface DmaSummary {
  ok: boolean;
  bytes: number;
  address?: bigint;
  flags?: number;
}

function summary(r: DmaResult): DmaSummary {
  if (r.ok) return { ok: true, bytes: r.bytes };
  return { ok: false, bytes: r.bytes, address: BigInt(r.fault!.address), flags: r.fault!.flags };
}

/** What the reference says a DMA does; applies writes to the reference memory. */
function expectDma(
  ref: IntervalMap,
  presentIsReadable: boolean,
  mem: RefMemory,
  attached: boolean,
  iova: bigint,
  len: number,
  write: boolean,
  data: Uint8Array | undefined,
): { summary: DmaSummary; data: Uint8Array } {
  const out = new Uint8Array(len);
  const rw = write ? 0x20 : 0;
  let done = 0;
  while (done < len) {
    const at = iova + BigInt(done);
    const hit = attached ? ref.find(at) : undefined;
    // x86 entries have no read bit: present means readable.
    const prot = hit?.range.prot ?? 0;
    const allowed = hit !== undefined && (write ? (prot & 2) !== 0 : presentIsReadable || (prot & 1) !== 0);
    if (!allowed) {
      const flags = rw | (hit !== undefined ? 0x10 : 0);
      return { summary: { ok: false, bytes: done, address: at, flags }, data: out.subarray(0, done) };
    }
    const n = Math.min(len - done, 4096 - Number(at & 0xfffn));
    const oa = hit.oa;
    if (write) mem.write(oa, data!.subarray(done, done + n));
    else out.set(mem.read(oa, n), done);
    done += n;
  }
  return { summary: { ok: true, bytes: len }, data: out };
}

const V1: Flavour = {
  name: 'v1 (AMDv1, 64-bit IOVA: grows 3 -> 6 levels)',
  regions: [0n, 1n << 32n, (1n << 39n) + (1n << 35n), (1n << 48n) + (1n << 40n), 1n << 57n, (1n << 64n) - (1n << 30n)],
  features: { features: { hats: 2 } },
  presentIsReadable: false,
  flags: 0,
};

const V2: Flavour = {
  name: 'v2 (x86-64, 47-bit IOVA)',
  regions: [0n, 1n << 32n, 1n << 39n, (1n << 47n) - (1n << 30n)],
  presentIsReadable: true,
  flags: IOMMU_HWPT_ALLOC_PASID,
};

describe('random map / unmap / DMA sequences against a reference', () => {
  for (const f of [V1, V2]) {
    it(f.name, () => {
      stats.dmas = stats.ok = 0;
      fc.assert(
        fc.property(fc.array(opArb(f.regions.length), { minLength: 1, maxLength: 80, size: 'medium' }), (ops) => runSequence(f, ops)),
        { numRuns: Number(process.env.GENPT_FC_RUNS ?? 60) },
      );
      // Both outcomes were exercised plenty.
      expect(stats.ok).toBeGreaterThan(stats.dmas / 10);
      expect(stats.dmas - stats.ok).toBeGreaterThan(stats.dmas / 10);
    });
  }

  it('the same property catches a driver that never invalidates', () => {
    const found = fc.check(
      fc.property(fc.array(opArb(V1.regions.length), { minLength: 1, maxLength: 80, size: 'medium' }), (ops) => runSequence(V1, ops, true)),
      { numRuns: 300, endOnFailure: true },
    );
    expect(found.failed).toBe(true);
  });
});
