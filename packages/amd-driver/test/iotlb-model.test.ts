/**
 * The hardware model's IOTLB against the generic emulated IOTLB's AMD
 * invalidation model (@genpt/kunit-port amdModel): the same cached leaves
 * and directory entries, one gather turned into INVALIDATE_IOMMU_PAGES by
 * the driver's own builder and executed by the command processor, and the
 * model applied to the same gather; both must keep the same entries.
 *
 * This check found that the hardware model dropped every overlapping entry,
 * even one larger than the command; by the AMD IOMMU spec 2.4.3 software note
 * (an invalidation must be at least as large as the largest page it
 * invalidates) hardware need not, so the model now keeps those, as amdModel
 * does, and a driver that under-invalidates a large page is caught by both.
 */
import { amdModel, EmulatedIotlb } from '@genpt/kunit-port';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  buildInvIommuPages,
  DteCache,
  executeCommand,
  type HwCommand,
  hostTag,
  IommuCmd,
  Iotlb,
  type PdeEntry,
  type SystemMemory,
} from '../dist/index.js';

const DOMID = 1;
const OTHER_DOMID = 2;
/** AMDv1 leaf sizes (contiguous 32K/64K included) and directory levels. */
const LEAF_LG2 = [12, 15, 16, 21, 30] as const;
const PDE_LEVELS = [1, 2, 3] as const;
const SEED = 0x1a2d7;
const RUNS = 400;

interface Leaf {
  lg2: number;
  base: bigint;
}
interface Pde {
  level: number;
  base: bigint;
}
interface Case {
  leaves: Leaf[];
  pdes: Pde[];
  start: bigint;
  end: bigint;
  freedTables: number;
}

const hi = (v: bigint): number => Number(v >> 32n) | 0;
const lo = (v: bigint): number => Number(v & 0xffffffffn) | 0;
const u64 = (h: number, l: number): bigint => (BigInt(h >>> 0) << 32n) | BigInt(l >>> 0);
const hex = (v: bigint): string => `0x${v.toString(16)}`;
const pdeLg2 = (level: number): number => 12 + 9 * level;

/** An aligned block of 2^lg2 inside a window of 2^win (at 0 when it does not fit). */
function block(win: number, lg2: number): fc.Arbitrary<bigint> {
  const n = lg2 >= win ? 0 : 2 ** (win - lg2) - 1;
  return fc.integer({ min: 0, max: n }).map((i) => BigInt(i) << BigInt(lg2));
}

// A window per case (4 MiB .. 8 GiB) so small entries and gathers collide often.
const caseArb: fc.Arbitrary<Case> = fc.constantFrom(22, 26, 33).chain((win) => {
  const pages = 2 ** (win - 12);
  const leaf = fc.constantFrom(...LEAF_LG2).chain((lg2) => block(win, lg2).map((base): Leaf => ({ lg2, base })));
  const pde = fc.constantFrom(...PDE_LEVELS).chain((level) => block(win, pdeLg2(level)).map((base): Pde => ({ level, base })));
  const gather = fc.tuple(fc.integer({ min: 0, max: pages - 1 }), fc.oneof(fc.nat(8), fc.nat(pages - 1))).map(([p, len]) => {
    const q = Math.min(p + len, pages - 1);
    return { start: BigInt(p) << 12n, end: (BigInt(q) << 12n) | 0xfffn };
  });
  return fc
    .record({
      leaves: fc.array(leaf, { maxLength: 40 }),
      pdes: fc.array(pde, { maxLength: 12 }),
      gather,
      freedTables: fc.nat(3),
    })
    .map(({ leaves, pdes, gather: g, freedTables }) => ({ leaves, pdes, ...g, freedTables }));
});

/** Iotlb has no directory-entry enumerator; read its private per-tag map (test only). */
function pdesOf(t: Iotlb, tag: string): PdeEntry[] {
  const tags = (t as unknown as { tags: Map<string, { pdes: Map<string, PdeEntry> }> }).tags;
  return [...(tags.get(tag)?.pdes.values() ?? [])];
}

const leafKey = (lg2: number, base: bigint): string => `leaf lg2=${lg2} base=${hex(base)}`;
const pdeKey = (level: number, base: bigint): string => `pde level=${level} (walk lg2=${pdeLg2(level)}) base=${hex(base)}`;

function hwKeys(t: Iotlb, tag: string): Set<string> {
  const out = new Set<string>();
  for (const e of t.entriesOf(tag)) out.add(leafKey(e.sizeLg2, u64(e.baseHi, e.baseLo)));
  for (const e of pdesOf(t, tag)) out.add(pdeKey(e.level, u64(e.baseHi, e.baseLo)));
  return out;
}

function emuKeys(emu: EmulatedIotlb): Set<string> {
  const out = new Set<string>();
  for (const [lg2, m] of emu.leaves) for (const idx of m.keys()) out.add(leafKey(lg2, idx << BigInt(lg2)));
  for (const [lg2, m] of emu.walks) for (const idx of m.keys()) out.add(pdeKey((lg2 - 12) / 9, idx << BigInt(lg2)));
  return out;
}

/** The first entry only one side holds, or undefined. */
function firstDifference(hw: Set<string>, model: Set<string>): string | undefined {
  const only = (a: Set<string>, b: Set<string>) => [...a].filter((k) => !b.has(k)).sort();
  const h = only(hw, model);
  const m = only(model, hw);
  if (h.length === 0 && m.length === 0) return undefined;
  const first =
    h[0] !== undefined && (m[0] === undefined || h[0] < m[0]) ? `hardware Iotlb still holds ${h[0]}` : `model still holds ${m[0]}`;
  return `${first} (${h.length} only in hardware, ${m.length} only in model)`;
}

/** Fill both caches, run the driver's command on the hardware and amdModel on the emulation. */
function run(c: Case): { hw: Iotlb; emu: EmulatedIotlb; cmd: HwCommand; before: Set<string> } {
  const hw = new Iotlb();
  const emu = new EmulatedIotlb();
  const put = (sized: Map<number, Map<bigint, bigint>>, lg2: number, base: bigint) => {
    let m = sized.get(lg2);
    if (m === undefined) {
      m = new Map();
      sized.set(lg2, m);
    }
    m.set(base >> BigInt(lg2), base);
  };
  for (const domid of [DOMID, OTHER_DOMID]) {
    for (const l of c.leaves) {
      hw.insert(hostTag(domid), {
        baseHi: hi(l.base),
        baseLo: lo(l.base),
        sizeLg2: l.lg2,
        oaHi: hi(l.base),
        oaLo: lo(l.base),
        read: true,
        write: true,
        dirty: false,
        notPresent: false,
      });
    }
    for (const p of c.pdes) {
      hw.pdeInsert(hostTag(domid), { level: p.level, baseHi: hi(p.base), baseLo: lo(p.base), tablePa: 0x1000, read: true, write: true });
    }
  }
  for (const l of c.leaves) put(emu.leaves, l.lg2, l.base);
  // The pointer to a level-L table sits in an item spanning 2^(12 + 9L).
  for (const p of c.pdes) put(emu.walks, pdeLg2(p.level), p.base);
  const before = hwKeys(hw, hostTag(OTHER_DOMID));

  // amd_iommu_iotlb_sync(): size = end - start + 1; v1 domain, no PASID.
  const size = c.end - c.start + 1n;
  const ic = new IommuCmd();
  buildInvIommuPages(ic, hi(c.start), lo(c.start), hi(size), lo(size), DOMID, 0, false);
  // Only the IOTLB is touched by INVALIDATE_IOMMU_PAGES.
  const target = { iotlb: hw, dteCache: new DteCache(), mem: undefined as unknown as SystemMemory, comWaitInterrupt() {} };
  const [w0, w1, w2, w3] = ic.data;
  const cmd = executeCommand(target, w0!, w1!, w2!, w3!);
  if (cmd === null) throw new Error('INVALIDATE_IOMMU_PAGES not executed');

  // The driver always sets PDE (checked below), so the matching model is pde: 'always'.
  amdModel({ pde: 'always' }).invalidate(emu, { start: c.start, end: c.end, freedTables: c.freedTables }, { smallestPgszLg2: 12 });
  return { hw, emu, cmd, before };
}

const describeCase = (c: Case, cmd: HwCommand): string =>
  `gather [${hex(c.start)}, ${hex(c.end)}] freed=${c.freedTables}, command block [${hex(cmd.first!)}, ${hex(cmd.last!)}]`;

describe('hardware Iotlb vs amdModel on the EmulatedIotlb', () => {
  it('the driver sets PDE and the command block is the model’s aligned block', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { cmd } = run(c);
        expect(cmd.name).toBe('INVALIDATE_IOMMU_PAGES');
        expect(cmd.pde).toBe(true);
        expect(cmd.domainId).toBe(DOMID);
        // amdModel's alignedBlock(): the smallest aligned 2^lg2 >= 4 KiB holding the gather.
        const x = c.start ^ c.end;
        const lg2 = Math.max(12, x === 0n ? 0 : x.toString(2).length);
        const first = c.start & ~((1n << BigInt(lg2)) - 1n);
        expect([hex(cmd.first!), hex(cmd.last!)]).toEqual([hex(first), hex(first + (1n << BigInt(lg2)) - 1n)]);
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('exactly the same entries afterwards; another domain untouched', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const { hw, emu, cmd, before } = run(c);
        const diff = firstDifference(hwKeys(hw, hostTag(DOMID)), emuKeys(emu));
        expect(diff, `${describeCase(c, cmd)}: ${diff}`).toBeUndefined();
        expect(firstDifference(hwKeys(hw, hostTag(OTHER_DOMID)), before)).toBeUndefined();
      }),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('a 4 KiB gather inside a cached 2 MiB leaf leaves the leaf cached on both sides', () => {
    const { hw, emu } = run({ leaves: [{ lg2: 21, base: 0n }], pdes: [], start: 0n, end: 0xfffn, freedTables: 0 });
    expect(firstDifference(hwKeys(hw, hostTag(DOMID)), emuKeys(emu))).toBeUndefined();
    expect(hwKeys(hw, hostTag(DOMID)).size).toBe(1);
  });

  it('agree when the command is at least as large as every overlapping entry', () => {
    const { hw, emu } = run({
      leaves: [
        { lg2: 21, base: 0n },
        { lg2: 12, base: 0x201000n },
        { lg2: 30, base: 1n << 30n },
      ],
      pdes: [
        { level: 1, base: 0n },
        { level: 2, base: 1n << 30n },
      ],
      start: 0n,
      end: 0x1fffffn,
      freedTables: 1,
    });
    expect(firstDifference(hwKeys(hw, hostTag(DOMID)), emuKeys(emu))).toBeUndefined();
    // Only the 2 MiB leaf and the level-1 PDE at 0 overlap the block.
    expect([...emuKeys(emu)].sort()).toEqual([leafKey(12, 0x201000n), leafKey(30, 1n << 30n), pdeKey(2, 1n << 30n)].sort());
  });
});
