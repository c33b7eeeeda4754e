/**
 * The algorithms and the iommu-core glue on pt-core's test format (a small
 * x86-like format: 4K/2M/1G leaves). The real formats' packages run the
 * kernel's suites and golden traces through this package as well.
 */
import { bit, isPtError, PT_FEAT_DYNAMIC_TOP, PT_FEAT_SIGN_EXTEND, TableMemory } from '@genpt/pt-core';
import { toy } from '@genpt/pt-core/testing';
import { describe, expect, it } from 'vitest';
import {
  dumpTable,
  iommuIotlbGatherAddRange,
  iommuIotlbGatherIsDisjoint,
  IommuIotlbGather,
  iommuMap,
  iommuUnmap,
  PtIommu,
  PtSpinLock,
  tableAddressMask,
} from '@genpt/iommu-ops';

const RW = 3;
const cfg39 = { features: 0, hwMaxVaszLg2: 39, hwMaxOaszLg2: 52, topLevel: 2 };

function errOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (isPtError(e)) return e.code;
    throw e;
  }
  return undefined;
}

function gatherOf(start: bigint, end: bigint): IommuIotlbGather {
  const g = new IommuIotlbGather();
  g.startHi = Number(start >> 32n) | 0;
  g.startLo = Number(start & 0xffffffffn) | 0;
  g.endHi = Number(end >> 32n) | 0;
  g.endLo = Number(end & 0xffffffffn) | 0;
  return g;
}

describe('iotlb gather helpers', () => {
  it('start empty, widen to cover each range, wrap an empty range like the kernel', () => {
    const g = new IommuIotlbGather();
    expect([g.start, g.end]).toEqual([2n ** 64n - 1n, 0]);
    iommuIotlbGatherAddRange(g, 0, 0x2000, 0, 0x1000);
    iommuIotlbGatherAddRange(g, 0, 0x8000, 0, 0x1000);
    expect([g.start, g.end]).toEqual([0x2000, 0x8fff]);
    const e = new IommuIotlbGather();
    iommuIotlbGatherAddRange(e, 0, 0x1100000, 0, 0);
    expect([e.start, e.end]).toEqual([0x1100000, 0x10fffff]);
    const z = new IommuIotlbGather();
    iommuIotlbGatherAddRange(z, 0, 0, 0, 0);
    expect([z.start, z.end]).toEqual([0, 2n ** 64n - 1n]);
  });

  it('call ranges disjoint only when they neither overlap nor touch', () => {
    expect(iommuIotlbGatherIsDisjoint(new IommuIotlbGather(), 0, 0x1000, 0, 0x1000)).toBe(false);
    const g = gatherOf(0x10000n, 0x1ffffn);
    expect(iommuIotlbGatherIsDisjoint(g, 0, 0x20000, 0, 0x1000)).toBe(false); // touches
    expect(iommuIotlbGatherIsDisjoint(g, 0, 0xf000, 0, 0x1000)).toBe(false); // touches below
    expect(iommuIotlbGatherIsDisjoint(g, 0, 0x21000, 0, 0x1000)).toBe(true);
    expect(iommuIotlbGatherIsDisjoint(g, 0, 0xe000, 0, 0x1000)).toBe(true);
  });
});

describe('init', () => {
  it('refuses configs as the kernel does', () => {
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 0 }))).toBe('EINVAL');
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 65 }))).toBe('EINVAL');
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxOaszLg2: 0 }))).toBe('EINVAL');
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxOaszLg2: 53 }))).toBe('EINVAL');
    // a fixed top level 2 cannot span 48 bits
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 48 }))).toBe('EOPNOTSUPP');
    // features the format does not support
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, features: bit(4) }))).toBe('EOPNOTSUPP');
    // DYNAMIC_TOP needs the driver's hooks
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 64, features: bit(PT_FEAT_DYNAMIC_TOP) }))).toBe('EINVAL');
    // SIGN_EXTEND cannot grow (a top that already spans the VA drops DYNAMIC_TOP instead)
    const driverOps = { changeTop: () => {}, getTopLock: () => new PtSpinLock() };
    const both = { ...cfg39, hwMaxVaszLg2: 48, features: bit(PT_FEAT_SIGN_EXTEND) | bit(PT_FEAT_DYNAMIC_TOP) };
    expect(errOf(() => PtIommu.init(toy, both, { driverOps }))).toBe('EINVAL');
    expect(PtIommu.init(toy, { ...both, topLevel: 3 }, { driverOps }).featureNames()).toEqual(['SIGN_EXTEND']);
    expect(errOf(() => PtIommu.init(toy, { ...cfg39, features: 1.5 }))).toBe('EINVAL');
  });

  it('fails with ENOMEM when the top table cannot be allocated', () => {
    const mem = new TableMemory();
    mem.failNthAlloc(1);
    expect(errOf(() => PtIommu.init(toy, cfg39, { mem }))).toBe('ENOMEM');
    expect(mem.pagesInUse).toBe(0);
  });

  it('sets the domain: page sizes and the aperture of the lower half with SIGN_EXTEND', () => {
    const t = PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 48, topLevel: 3, features: bit(PT_FEAT_SIGN_EXTEND) });
    expect(t.domain.pgsizeBitmap).toBe(0x40201000n);
    expect(t.getInfo().pgsizeBitmap).toBe(0x40201000n);
    expect(t.domain.geometry).toEqual({ apertureStart: 0, apertureEnd: 0x7fffffffffff, forceAperture: true });
    expect(t.featureNames()).toEqual(['SIGN_EXTEND']);
    expect(errOf(() => t.hwInfo())).toBe('EOPNOTSUPP');
  });
});

describe('map, translate, unmap', () => {
  it('uses the largest page the alignment allows and unmaps whole leaves', () => {
    const t = PtIommu.init(toy, cfg39);
    expect(t.mapRange(0x200000, 0x400000, 0x401000, RW)).toBe(0x401000); // 2 x 2M + 4K
    expect(t.iovaToPhys(0x3fffff)).toBe(0x5fffff);
    expect(t.iovaToPhys(0x600fff)).toBe(0x800fff);
    expect(t.iovaToPhys(0x601000)).toBe(0);
    const leaves = dumpTable(t)
      .tables.flatMap((tb) => tb.entries)
      .filter((e) => e.kind === 'L')
      .map((e) => e.sizeLg2);
    expect(leaves).toEqual([21, 21, 12]);
    const g = new IommuIotlbGather();
    // inside a 2M leaf: nothing; at its start: the whole leaf
    expect(t.unmapRange(0x201000, 0x1000, g)).toBe(0);
    expect(t.unmapRange(0x200000, 0x1000, g)).toBe(0x200000);
    // stops at the hole it meets
    expect(t.unmapRange(0x200000, 0x402000, g)).toBe(0);
    expect(t.unmapRange(0x400000, 0x402000, g)).toBe(0x201000);
    expect([g.start, g.end]).toEqual([0x200000, 0x600fff]);
    t.deinit();
    expect(t.common.mem.pagesInUse).toBe(0);
  });

  it('refuses to map over a leaf, keeping what it mapped before it', () => {
    const t = PtIommu.init(toy, cfg39);
    t.mapRange(0x3000, 0x3000, 0x1000, RW);
    let err: unknown;
    try {
      t.mapRange(0x1000, 0x1000, 0x4000, RW);
    } catch (e) {
      err = e;
    }
    expect(isPtError(err, 'EADDRINUSE') && err.mapped).toBe(0x2000);
    expect(t.iovaToPhys(0x2000)).toBe(0x2000);
    // iommu_map() rolls the partial map back
    expect(errOf(() => iommuMap(t.domain, 0x8000, 0x8000, 0x0, RW))).toBe('EINVAL');
    t.mapRange(0xb000, 0xb000, 0x1000, RW);
    expect(errOf(() => iommuMap(t.domain, 0x9000, 0x9000, 0x4000, RW))).toBe('EADDRINUSE');
    expect(t.iovaToPhys(0x9000)).toBe(0);
    expect(t.iovaToPhys(0xa000)).toBe(0);
    expect(t.iovaToPhys(0xb000)).toBe(0xb000);
  });

  it('takes the pages forms as pgsize * pgcount', () => {
    const t = PtIommu.init(toy, cfg39);
    expect(t.mapPages(0x200000n, 0x200000n, 0x1000, 512, RW)).toBe(0x200000);
    const g = new IommuIotlbGather();
    expect(t.unmapPages(0x200000, 0x200000, 1, g)).toBe(0x200000);
    expect(errOf(() => t.mapPages(0, 0, 0x3000, 1, RW))).toBe('EINVAL');
    expect(errOf(() => t.mapPages(0, 0, 0x1000, 2n ** 60n, RW))).toBe('EOVERFLOW');
  });

  it('flushes freed tables through iotlb_sync and refuses re-entry from it', () => {
    const syncs: Array<[unknown, unknown, number]> = [];
    let reenter = false;
    const t: PtIommu = PtIommu.init(toy, cfg39, {
      domainOps: {
        iotlbSync(domain, g) {
          syncs.push([g.start, g.end, g.freelist.length]);
          for (const pa of g.freelist) domain.table.common.mem.free(pa);
          if (reenter) t.mapRange(0x7000000, 0, 0x1000, RW);
        },
      },
    });
    t.mapRange(0x400000, 0x1000, 0x1000, RW);
    expect(iommuUnmap(t.domain, 0x400000, 0x1000)).toBe(0x1000);
    // a 2M leaf over the now empty level 0 table frees it mid-map
    t.mapRange(0x400000, 0x400000, 0x200000, RW);
    expect(syncs).toEqual([
      [0x400000, 0x400fff, 0],
      [0x400000, 0x5fffff, 1],
    ]);
    t.unmapRange(0x400000, 0x200000, new IommuIotlbGather());
    t.mapRange(0x400000, 0x1000, 0x1000, RW);
    t.unmapRange(0x400000, 0x1000, new IommuIotlbGather());
    reenter = true;
    expect(errOf(() => t.mapRange(0x400000, 0x400000, 0x200000, RW))).toBe('EBUSY');
    reenter = false;
    // not wedged afterwards
    expect(t.iovaToPhys(0x400000)).toBe(0x400000);
  });

  it('is unusable after deinit, and deinit twice is harmless', () => {
    const t = PtIommu.init(toy, cfg39);
    t.mapRange(0, 0, 0x40000000, RW);
    t.deinit();
    t.deinit();
    expect(errOf(() => t.iovaToPhys(0))).toBe('ENODEV');
    expect(errOf(() => t.mapRange(0, 0, 0x1000, RW))).toBe('ENODEV');
  });

  it('checks the top lock protocol of DYNAMIC_TOP growth', () => {
    const lock = new PtSpinLock();
    const tops: number[] = [];
    const t = PtIommu.init(
      toy,
      { ...cfg39, hwMaxVaszLg2: 64, features: bit(PT_FEAT_DYNAMIC_TOP) },
      {
        driverOps: {
          changeTop: (_t, _pa, level) => {
            expect(lock.held).toBe(true);
            tops.push(level);
          },
          getTopLock: () => lock,
        },
      },
    );
    t.mapRange(2n ** 50n, 0, 0x1000, RW);
    expect(tops).toEqual([4]);
    expect(lock.held).toBe(false);
    expect(t.iovaToPhys(2n ** 50n + 5n)).toBe(5);
  });
});

describe('dump', () => {
  it('lists tables depth first with canonical (address-free) table pointers', () => {
    const t = PtIommu.init(toy, cfg39);
    t.mapRange(0x40201000, 0x1000, 0x1000, RW);
    const d = dumpTable(t);
    expect(d.tables.map((x) => [x.level, x.path])).toEqual([
      [2, []],
      [1, [1]],
      [0, [1, 1]],
    ]);
    expect(tableAddressMask(t.common)).toBe(0xffffffffff000n);
    const top = d.tables[0]!.entries[0]!;
    expect([top.index, top.kind, top.canonical]).toEqual([1, 'T', 1n]);
    const leaf = d.tables[2]!.entries[0]!;
    expect([leaf.index, leaf.kind, leaf.oa, leaf.sizeLg2, d.tables[2]!.va]).toEqual([1, 'L', 0x1000n, 12, 0x40200000n]);
  });
});

describe('init errors say which condition failed', () => {
  const msg = (fn: () => unknown): string => {
    try {
      fn();
    } catch (e) {
      if (isPtError(e)) return `${e.code}: ${e.message}`;
      throw e;
    }
    return 'ok';
  };

  it('names the unsupported feature, the width out of range and the missing driver hook', () => {
    expect(msg(() => PtIommu.init(toy, { ...cfg39, features: bit(4) }))).toMatch(
      /^EOPNOTSUPP: .*toy init: toy does not support FLUSH_RANGE$/,
    );
    expect(msg(() => PtIommu.init(toy, { ...cfg39, hwMaxVaszLg2: 70 }))).toMatch(/cfg\.hwMaxVaszLg2 70 is not a width 0\.\.64/);
    expect(msg(() => PtIommu.init(toy, { ...cfg39, features: 2 ** 32 + 16 }))).toMatch(
      /^EINVAL: .*cfg\.features 4294967312 is not a u32 bitmap/,
    );
    expect(msg(() => PtIommu.init(toy, { ...cfg39, features: bit(PT_FEAT_DYNAMIC_TOP), topLevel: 1 }))).toMatch(
      /DYNAMIC_TOP needs driverOps\.changeTop and driverOps\.getTopLock/,
    );
  });

  it('refuses malformed arguments with EINVAL instead of a TypeError', () => {
    expect(msg(() => PtIommu.init(toy, null as never))).toMatch(/^EINVAL: .*cfg must be an object/);
    expect(msg(() => PtIommu.init(toy, cfg39, null as never))).toMatch(/^EINVAL: .*opts must be an object/);
    expect(msg(() => PtIommu.init(toy, cfg39, { mem: {} as never }))).toMatch(/^EINVAL: .*opts\.mem must be a TableMemory/);
    expect(msg(() => PtIommu.init({ name: 'bogus' } as unknown as typeof toy, cfg39))).toMatch(/^EINVAL: .*not a page table format/);
  });
});
