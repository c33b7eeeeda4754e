/**
 * The Device Table Entries the driver writes, bit for bit (values worked out
 * by hand from the AMD IOMMU specification's DTE layout), and the order it
 * writes their halves in.
 */
import { describe, expect, it } from 'vitest';
import { DevTableEntry, getDte256, IOMMU_HWPT_ALLOC_DIRTY_TRACKING, IOMMU_HWPT_ALLOC_PASID } from '../dist/index.js';
import { commandsSince, machine, names } from './helpers.js';

const IR_IW = (1n << 61n) | (1n << 62n);
const V = 1n;
const TV = 2n;

function dte(s: ReturnType<typeof machine>, devid: number, iommu = 0): DevTableEntry {
  return getDte256(s.driver.iommus[iommu]!, devid, new DevTableEntry());
}

describe('Device Table Entries', () => {
  it('every DTE starts valid with translation and no permissions (DMA blocked)', () => {
    const s = machine();
    for (const devid of [0, 0x10, 0xff]) {
      expect([0, 1, 2, 3].map((i) => dte(s, devid).data(i))).toEqual([V | TV, 0n, 0n, 0n]);
    }
  });

  it('v1 attach: V, TV, Mode = levels, root, IR, IW; DomainID in data[1]', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    expect(domain.pdMode).toBe('v1');
    const mark = s.hw.commandLog.length;
    domain.attachDev(dev);
    const { hostPtRoot, mode } = domain.amdv1HwInfo();
    expect(mode).toBe(3); // starting level 2 -> three levels
    const e = dte(s, 0x10);
    expect(e.data(0)).toBe(IR_IW | BigInt(hostPtRoot) | (3n << 9n) | TV | V);
    expect(e.data(1)).toBe(BigInt(domain.id));
    expect([e.data(2), e.data(3)]).toEqual([0n, 0n]);
    // update_dte256's flush+wait, then device_flush_dte and the wait of amd_iommu_update_dte.
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_DEVTAB_ENTRY', 'COMPLETION_WAIT', 'INVALIDATE_DEVTAB_ENTRY', 'COMPLETION_WAIT']);
    expect(cmds[0]!.words).toEqual([0x10, 0x20000000, 0, 0]);
  });

  it('dirty tracking sets HAD = 11b in every attached DTE and clears it again', () => {
    const s = machine();
    const a = s.driver.probeDevice(0, 0x10);
    const b = s.driver.probeDevice(0, 0x11);
    const domain = s.driver.domainAllocPaging(a, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    domain.attachDev(a);
    domain.attachDev(b);
    const before = dte(s, 0x10).data(0);
    const mark = s.hw.commandLog.length;
    domain.setDirtyTracking(true);
    for (const devid of [0x10, 0x11]) expect(dte(s, devid).data(0)).toBe(before | (3n << 7n));
    // Each DTE invalidated, then the whole domain flushed so later writes mark PTEs.
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_DEVTAB_ENTRY', 'INVALIDATE_DEVTAB_ENTRY', 'INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(cmds[2]).toMatchObject({ domainId: domain.id, first: 0n, last: 2n ** 64n - 1n });
    // A device attached later gets HAD too.
    const c = s.driver.probeDevice(0, 0x12);
    domain.attachDev(c);
    expect(dte(s, 0x12).data(0) & (3n << 7n)).toBe(3n << 7n);
    domain.setDirtyTracking(false);
    for (const devid of [0x10, 0x11, 0x12]) expect(dte(s, devid).data(0) & (3n << 7n)).toBe(0n);
  });

  it('v2 attach: GCR3 table with the domain table in PASID 0, GV + GIOV, per-device DomainID', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    expect(domain.pdMode).toBe('v2');
    const mark = s.hw.commandLog.length;
    domain.attachDev(dev);
    const g = dev.gcr3Info;
    expect(g.glx).toBe(0);
    expect(g.domid).not.toBe(domain.id);
    const gcr3 = BigInt(g.gcr3Tbl);
    const e = dte(s, 0x10);
    const giov = 1n << 54n;
    const gv = 1n << 55n;
    expect(e.data(0)).toBe(IR_IW | (((gcr3 >> 12n) & 7n) << 58n) | gv | giov | TV | V);
    expect(e.data(1)).toBe(BigInt(g.domid) | (((gcr3 >> 15n) & 0xffffn) << 16n) | ((gcr3 >> 31n) << 43n));
    expect(e.data(2)).toBe(0n); // 4-level guest table
    // GCR3[0] = the x86-64 table root | valid.
    const lo = s.mem.read32(g.gcr3Tbl) >>> 0;
    expect(lo).toBe((domain.gcr3Pt() % 2 ** 32) | 1);
    // update_gcr3 flushes PASID 0 of the new DomainID (GN), then the DTE is written and flushed.
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual([
      'INVALIDATE_IOMMU_PAGES',
      'COMPLETION_WAIT',
      'INVALIDATE_DEVTAB_ENTRY',
      'COMPLETION_WAIT',
      'INVALIDATE_DEVTAB_ENTRY',
      'COMPLETION_WAIT',
    ]);
    expect(cmds[0]).toMatchObject({ domainId: g.domid, gn: true, pasid: 0, pde: true, first: 0n });
  });

  it('v2 with 5-level guest tables (LA57 + GATS) sets the guest paging level in data[2]', () => {
    const s = machine({ features: { gats: 1 }, driver: { la57: true } });
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    domain.attachDev(dev);
    expect(dte(s, 0x10).data(2)).toBe(1n << 54n);
  });

  it('a device with many PASIDs gets a two-level GCR3 table (GLX = 1)', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10, { pasids: 1 << 16 });
    expect(dev.maxPasids).toBe(0xffff);
    const domain = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    domain.attachDev(dev);
    expect(dev.gcr3Info.glx).toBe(1);
    expect((dte(s, 0x10).data(0) >> 56n) & 3n).toBe(1n);
    domain.map(0x1000, 0x2000, 0x1000, 3);
    expect(s.hw.translateAccess(0x10, 0x1000, true)).toEqual({ ok: true, oa: 0x2000 });
  });

  it('detach leaves only V: blocked', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    domain.attachDev(dev);
    const pages = s.tables.pagesInUse;
    s.driver.blockDevice(dev);
    expect([0, 1, 2, 3].map((i) => dte(s, 0x10).data(i))).toEqual([V, 0n, 0n, 0n]);
    expect(s.tables.pagesInUse).toBe(pages - 1); // the GCR3 table
    expect(s.driver.pdomIds.inUse).toBe(1); // the GCR3 DomainID went back
  });

  it('halves are written in the order that never exposes a half-made entry', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const base = s.driver.iommus[0]!.devTable + 0x10 * 32;
    const order: number[] = [];
    const write32 = s.mem.write32.bind(s.mem);
    s.mem.write32 = (pa: number, v: number) => {
      if (pa >= base && pa < base + 32) order.push((pa - base) / 4);
      write32(pa, v);
    };
    // One 256-bit update is eight word writes.
    const upper = [4, 5, 6, 7];
    const lower = [0, 1, 2, 3];

    // Valid -> valid without a guest table: upper half first.
    const v2 = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    v2.attachDev(dev);
    expect(order).toEqual([...upper, ...lower]);
    // Leaving a guest table (GV 1 -> 0): lower half (GV) first. The blocked
    // domain then rewrites the same V-only entry (valid -> valid: upper first).
    order.length = 0;
    s.driver.blockDevice(dev);
    expect(order).toEqual([...lower, ...upper, ...upper, ...lower]);
  });

  it('interrupt remapping bits of data[2] survive DMA updates', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const pa = s.driver.iommus[0]!.devTable + 0x10 * 32;
    // IRT root, IntTabLen and IntCtl live in data[2]; write some as the IRQ code would.
    s.mem.write32(pa + 16, 0x12345013);
    s.mem.write32(pa + 20, 0x20000abc);
    const domain = s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID);
    domain.attachDev(dev);
    expect(dte(s, 0x10).data(2)).toBe(0x20000abc12345013n);
    s.driver.blockDevice(dev);
    expect(dte(s, 0x10).data(2)).toBe(0x20000abc12345013n);
  });
});
