/**
 * The hardware alone, on tables and DTEs written by hand from the AMD IOMMU
 * specification (no driver, no format package): how the walkers read Mode,
 * Next Level, sized pages, skipped levels, permissions, A/D, GCR3 and x86
 * long-mode entries, and which events a bad entry produces.
 */
import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';

const PR = 1n;
const IR = 1n << 61n;
const IW = 1n << 62n;
const A = 1n << 5n;
const D = 1n << 6n;

function bench(features: Parameters<typeof machine>[0] = {}) {
  const s = machine(features);
  const put = (pa: number, v: bigint): void => {
    s.mem.write32(pa, Number(v & 0xffffffffn) | 0);
    s.mem.write32(pa + 4, Number(v >> 32n) | 0);
  };
  const get = (pa: number): bigint => (BigInt(s.mem.read32(pa + 4) >>> 0) << 32n) | BigInt(s.mem.read32(pa) >>> 0);
  const table = (): number => s.tables.alloc(12);
  /** Write a DTE and drop it from the DTE cache, as INVALIDATE_DEVTAB_ENTRY would. */
  const dte = (devid: number, d0: bigint, d1 = 0n, d2 = 0n): void => {
    const base = s.driver.iommus[0]!.devTable + devid * 32;
    put(base, d0);
    put(base + 8, d1);
    put(base + 16, d2);
    put(base + 24, 0n);
    s.hw.dteCache.invalidate(devid);
    s.hw.iotlb.clear();
  };
  /** A v1 DTE: V, TV, Mode, root, IR, IW, DomainID. */
  const v1Dte = (devid: number, mode: number, root: number, had = 0n, domid = 1n): void =>
    dte(devid, IR | IW | BigInt(root) | (BigInt(mode) << 9n) | (had << 7n) | 3n, domid);
  const go = (devid: number, iova: bigint | number, write = false) => s.hw.translateAccess(devid, iova, write);
  return { ...s, put, get, table, dte, v1Dte, go };
}

/** A directory entry pointing at a table of AMD level `nl`. */
const pde = (nl: number, pa: number, perm = IR | IW): bigint => PR | (BigInt(nl) << 9n) | BigInt(pa) | perm;
/** A leaf: NL 0 (this level's size) or NL 7 with the size encoded in `addr`. */
const leaf = (addr: bigint, nl = 0, perm = IR | IW): bigint => PR | (BigInt(nl) << 9n) | addr | perm;

describe('v1 walker (host tables)', () => {
  function threeLevels() {
    const b = bench();
    const l3 = b.table();
    const l2 = b.table();
    const l1 = b.table();
    b.put(l3, pde(2, l2));
    b.put(l2, pde(1, l1));
    b.v1Dte(0x40, 3, l3);
    return { ...b, l3, l2, l1 };
  }

  it('Mode 3: three levels down to a 4 KiB page', () => {
    const b = threeLevels();
    b.put(b.l1 + 5 * 8, leaf(0x12345000n));
    expect(b.go(0x40, 0x5abc)).toEqual({ ok: true, oa: 0x12345abc });
    expect(b.go(0x40, 0x6000).ok).toBe(false);
  });

  it('Next Level 7: the page size is the run of ones from address bit 12', () => {
    const b = threeLevels();
    // 16 KiB page at level 1: one 1 (bit 12). Only the indexed item is read.
    b.put(b.l1 + 6 * 8, leaf(0x20000000n | 0x1000n, 7));
    expect(b.go(0x40, 0x6345)).toEqual({ ok: true, oa: 0x20002345 });
    // 4 MiB page at level 2: nine 1s (bits 20:12) -> 2^(13 + 9). Item 3 is the second half
    // of the page at 0x400000, so IOVA bit 21 is part of the offset.
    b.put(b.l2 + 3 * 8, leaf(0x40000000n | 0x1ff000n, 7));
    expect(b.go(0x40, 0x600000 + 0x123456)).toEqual({ ok: true, oa: 0x40323456 });
    // Next Level 0 at level 2: a 2 MiB page.
    b.put(b.l2 + 8 * 8, leaf(0x80000000n));
    expect(b.go(0x40, 0x1000000 + 0x1abcde)).toEqual({ ok: true, oa: 0x801abcde });
  });

  it('a sized page that does not fit its level is a reserved encoding (RZ)', () => {
    const b = threeLevels();
    b.put(b.l1 + 2 * 8, leaf(0x20000000n | 0xff000n, 7)); // 2^21 at level 1: as big as the table
    const r = b.go(0x40, 0x2000);
    expect(r).toMatchObject({ ok: false, fault: { code: 2, flags: 0x80 } });
  });

  it('a directory entry must point to a lower level', () => {
    const b = threeLevels();
    b.put(b.l3 + 8, pde(3, b.l2));
    expect(b.go(0x40, 1n << 30n)).toMatchObject({ ok: false, fault: { flags: 0x80 } });
  });

  it('skipped levels: the IOVA bits they would translate must be zero', () => {
    const b = threeLevels();
    const l1b = b.table();
    b.put(b.l3 + 8, pde(1, l1b)); // level 3 -> level 1, skipping level 2 for IOVA [1G, 2G)
    b.put(l1b + 3 * 8, leaf(0x7000000n));
    expect(b.go(0x40, (1n << 30n) + 0x3010n)).toEqual({ ok: true, oa: 0x7000010 });
    expect(b.go(0x40, (1n << 30n) + (1n << 21n) + 0x3010n)).toMatchObject({ ok: false, fault: { flags: 0 } });
  });

  it('IR/IW are ANDed along the path; a denied access is a PR fault', () => {
    const b = threeLevels();
    b.put(b.l2, pde(1, b.l1, IW)); // the directory entry takes away read
    b.put(b.l1 + 8, leaf(0x9000n));
    expect(b.go(0x40, 0x1000, true)).toEqual({ ok: true, oa: 0x9000 });
    expect(b.go(0x40, 0x1000, false)).toMatchObject({ ok: false, fault: { flags: 0x10 } });
  });

  it('IOVA bits above the root level fault', () => {
    const b = threeLevels();
    expect(b.go(0x40, 1n << 39n)).toMatchObject({ ok: false, fault: { code: 2, flags: 0 } });
  });

  it('HAD = 11b sets A on use and D on writes in the leaf; HAD = 0 leaves the entry alone', () => {
    const b = threeLevels();
    const e = b.l1 + 8;
    b.put(e, leaf(0x9000n));
    b.go(0x40, 0x1000, true);
    expect(b.get(e)).toBe(leaf(0x9000n));
    b.v1Dte(0x40, 3, b.l3, 3n);
    b.go(0x40, 0x1000, false);
    expect(b.get(e)).toBe(leaf(0x9000n) | A);
    b.hw.iotlb.clear();
    b.go(0x40, 0x1000, true);
    expect(b.get(e)).toBe(leaf(0x9000n) | A | D);
  });

  it('DTE decoding: V = 0 passes through, Mode 0 obeys DTE IR/IW, Mode 7 and Mode > HATS + 4 are illegal', () => {
    const b = threeLevels();
    b.dte(0x41, 0n);
    expect(b.go(0x41, 0x123456n)).toEqual({ ok: true, oa: 0x123456 });
    b.dte(0x41, IR | 3n);
    expect(b.go(0x41, 0x1000)).toEqual({ ok: true, oa: 0x1000 });
    expect(b.go(0x41, 0x1000, true)).toMatchObject({ ok: false, fault: { code: 2, flags: 0x20 } });
    b.v1Dte(0x41, 7, b.l3);
    expect(b.go(0x41, 0x1000)).toMatchObject({ ok: false, fault: { code: 1 } });
    b.v1Dte(0x41, 5, b.l3); // the default IOMMU has HATS = 0: at most 4 levels
    expect(b.go(0x41, 0x1000)).toMatchObject({ ok: false, fault: { code: 1 } });
    const events = b.driver.iommus[0]!.pollEvents();
    expect(events.map((e) => e.name)).toEqual(['IO_PAGE_FAULT', 'ILLEGAL_DEV_TABLE_ENTRY', 'ILLEGAL_DEV_TABLE_ENTRY']);
  });
});

describe('v2 walker (GCR3 + x86 long mode)', () => {
  const P = 1n;
  const RW = 2n;
  const US = 4n;
  const PS = 1n << 7n;
  const x86 = (pa: number | bigint, extra = RW): bigint => P | US | BigInt(pa) | extra;

  function guest(levels: 4 | 5 = 4) {
    const b = bench(levels === 5 ? { features: { gats: 1 } } : {});
    const gcr3 = b.table();
    const tables = Array.from({ length: levels }, () => b.table());
    for (let i = 0; i < levels - 1; i++) b.put(tables[i]!, x86(tables[i + 1]!));
    b.put(gcr3, BigInt(tables[0]!) | 1n);
    const g = BigInt(gcr3);
    const d0 = IR | IW | (((g >> 12n) & 7n) << 58n) | (1n << 55n) | (1n << 54n) | 3n;
    const d1 = 9n | (((g >> 15n) & 0xffffn) << 16n) | ((g >> 31n) << 43n);
    b.dte(0x50, d0, d1, levels === 5 ? 1n << 54n : 0n);
    return { ...b, gcr3, tables };
  }

  it('PASID 0 of the GCR3 table, then PML4 -> PDPT -> PD -> PT', () => {
    const b = guest();
    b.put(b.tables[3]! + 7 * 8, x86(0xabc000));
    expect(b.go(0x50, 0x7123)).toEqual({ ok: true, oa: 0xabc123 });
    // A and D are set like an x86 MMU sets them.
    b.go(0x50, 0x7000, true);
    expect(b.get(b.tables[3]! + 7 * 8) & (A | D)).toBe(A | D);
    expect(b.get(b.tables[0]!) & A).toBe(A);
  });

  it('PS makes 1 GiB and 2 MiB leaves; PS in a PML4E is reserved; so are PAT-to-size address bits', () => {
    const b = guest();
    b.put(b.tables[1]! + 8, x86(0x40000000, RW | PS));
    expect(b.go(0x50, (1n << 30n) + 0x12345n)).toEqual({ ok: true, oa: 0x40012345 });
    b.put(b.tables[2]! + 2 * 8, x86(0x600000, RW | PS));
    expect(b.go(0x50, 0x400000 + 0x1234)).toEqual({ ok: true, oa: 0x601234 });
    b.put(b.tables[2]! + 3 * 8, x86(0x602000, RW | PS)); // bit 13 set in a 2 MiB entry
    expect(b.go(0x50, 0x600000)).toMatchObject({ ok: false, fault: { flags: 0x80 } });
    b.put(b.tables[0]! + 8, x86(0, RW | PS));
    expect(b.go(0x50, 1n << 39n)).toMatchObject({ ok: false, fault: { flags: 0x80 } });
  });

  it('R/W is ANDed along the path', () => {
    const b = guest();
    b.put(b.tables[0]!, x86(b.tables[1]!, 0n)); // read-only PML4E
    b.put(b.tables[3]!, x86(0x5000));
    expect(b.go(0x50, 0x10)).toEqual({ ok: true, oa: 0x5010 });
    expect(b.go(0x50, 0x10, true)).toMatchObject({ ok: false, fault: { flags: 0x30 } });
  });

  it('no sign extension for requests without PASID: 48 bits with 4 levels, 57 with 5', () => {
    const b4 = guest(4);
    expect(b4.go(0x50, 1n << 48n)).toMatchObject({ ok: false, fault: { code: 2 } });
    const b5 = guest(5);
    b5.put(b5.tables[0]! + 256 * 8, x86(b5.tables[1]!));
    b5.put(b5.tables[4]!, x86(0x3000));
    expect(b5.go(0x50, 1n << 56n)).toEqual({ ok: true, oa: 0x3000 });
  });

  it('an invalid GCR3 entry faults', () => {
    const b = guest();
    b.put(b.gcr3, 0n);
    b.hw.iotlb.clear();
    expect(b.go(0x50, 0)).toMatchObject({ ok: false, fault: { code: 2, domainId: 9 } });
  });
});

describe('command processor', () => {
  it('an unknown opcode stops the command buffer and logs ILLEGAL_COMMAND_ERROR with its address', () => {
    const s = machine();
    const iommu = s.driver.iommus[0]!;
    const pa = iommu.cmdBuf + iommu.cmdBufTail;
    s.mem.write32(pa + 4, 0xf << 28);
    iommu.cmdBufTail += 16;
    s.hw.writel(0x2008, iommu.cmdBufTail);
    s.hw.run();
    expect(s.hw.pendingCommands).toBe(1);
    expect(iommu.pollEvents()).toMatchObject([{ name: 'ILLEGAL_COMMAND_ERROR', address: pa }]);
  });
});
