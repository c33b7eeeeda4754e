/**
 * v2 domains: an x86-64 table reached through each device's GCR3 table
 * (PASID 0, DTE GIOV), invalidated per device with GN and the device's GCR3
 * DomainID.
 */
import { describe, expect, it } from 'vitest';
import { IOMMU_HWPT_ALLOC_PASID } from '../dist/index.js';
import { commandsSince, machine, names, pattern, R, RW, skipFlushes } from './helpers.js';

function v2(opts: Parameters<typeof machine>[0] = {}) {
  const s = machine(opts);
  const a = s.driver.probeDevice(0, 0x10);
  const b = s.driver.probeDevice(0, 0x20);
  const domain = s.driver.domainAllocPaging(a, IOMMU_HWPT_ALLOC_PASID);
  domain.attachDev(a);
  domain.attachDev(b);
  return { ...s, a, b, domain, iommu: s.driver.iommus[0]! };
}

describe('v2 (guest table) domains', () => {
  it('the boot option pgtbl_v2 makes flag-less domains v2; pgtbl_v1 (default) v1', () => {
    const s2 = machine({ driver: { pgtable: 'v2' } });
    expect(s2.driver.domainAllocPaging(s2.driver.probeDevice(0, 1)).pdMode).toBe('v2');
    const s1 = machine();
    expect(s1.driver.domainAllocPaging(s1.driver.probeDevice(0, 1)).pdMode).toBe('v1');
  });

  it('page sizes are the x86 ones: 4 KiB, 2 MiB, 1 GiB', () => {
    const s = v2();
    expect(s.domain.pgsizeBitmap).toBe((1n << 12n) | (1n << 21n) | (1n << 30n));
  });

  it('DMA reads and writes go through GCR3[0] and the 4-level table, 4K / 2M / 1G pages', () => {
    const s = v2();
    const maps: Array<[bigint, number, number]> = [
      [0x3000n, 0x7000, 0x1000],
      [0x40000000n, 0x80000000, 0x200000],
      [0x7f8000000000n, 0x100000000, 0x40000000],
    ];
    for (const [iova, oa, len] of maps) s.domain.map(iova, oa, len, RW);
    for (const [i, [iova, oa, len]] of maps.entries()) {
      const at = iova + BigInt(len - 64);
      for (const devid of [0x10, 0x20]) {
        const w = pattern(64, i * 31 + devid);
        expect(s.hw.dma(devid, at, 64, true, w).ok).toBe(true);
        expect(s.mem.readBytes(oa + len - 64, 64)).toEqual(w);
        expect(s.hw.dma(devid, at, 64, false).data).toEqual(w);
      }
    }
    const sizes = new Set(s.hw.iotlb.entriesOf(`g${s.a.gcr3Info.domid}.0`).map((e) => e.sizeLg2));
    expect(sizes).toEqual(new Set([12, 21, 30]));
  });

  it('a read-only page refuses writes', () => {
    const s = v2();
    s.domain.map(0x5000, 0x9000, 0x1000, R);
    expect(s.hw.dma(0x10, 0x5000, 8, false).ok).toBe(true);
    expect(s.hw.dma(0x10, 0x5000, 8, true).fault).toMatchObject({ flags: 0x30, domainId: s.a.gcr3Info.domid });
  });

  it('the table is not sign-extended: 47-bit IOVAs only', () => {
    const s = v2();
    expect(() => s.domain.map(1n << 47n, 0x1000, 0x1000, RW)).toThrow(/ERANGE/);
    expect(s.hw.dma(0x10, 1n << 47n, 4, false).fault).toMatchObject({ code: 2 });
  });

  it('unmap flushes each device with its GCR3 DomainID, GN and PASID 0, then waits; DMA then faults', () => {
    const s = v2();
    s.domain.map(0x200000, 0x400000, 0x200000, RW);
    for (const d of [0x10, 0x20]) s.hw.dma(d, 0x200000, 4, false);
    const mark = s.hw.commandLog.length;
    s.domain.unmap(0x200000, 0x200000);
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    // devList is most recent first.
    expect(cmds.slice(0, 2).map((c) => c.domainId)).toEqual([s.b.gcr3Info.domid, s.a.gcr3Info.domid]);
    for (const c of cmds.slice(0, 2)) {
      expect(c).toMatchObject({ gn: true, pasid: 0, pde: true, s: true, first: 0x200000n, last: 0x3fffffn });
      expect(c.words[2]! & 7).toBe(7);
    }
    for (const d of [0x10, 0x20]) expect(s.hw.dma(d, 0x200000, 4, false).ok).toBe(false);
    expect(s.iommu.pollEvents().map((e) => [e.deviceId, e.domainId])).toEqual([
      [0x10, s.a.gcr3Info.domid],
      [0x20, s.b.gcr3Info.domid],
    ]);
    expect(s.hw.staleHits).toEqual([]);
  });

  it('a driver that skips the invalidation leaves both devices reading the unmapped page', () => {
    const s = v2();
    s.domain.map(0x200000, 0x400000, 0x1000, RW);
    for (const d of [0x10, 0x20]) s.hw.dma(d, 0x200000, 4, false);
    skipFlushes(s.domain);
    s.domain.unmap(0x200000, 0x1000);
    expect(s.hw.dma(0x10, 0x200000, 4, false).ok).toBe(true);
    expect(s.hw.staleHits.map((h) => h.kind)).toEqual(['iotlb']);
  });

  it('5-level guest tables: 56-bit IOVAs', () => {
    const s = v2({ features: { gats: 1 }, driver: { la57: true } });
    const iova = (1n << 55n) + 0x1000n;
    s.domain.map(iova, 0x6000, 0x1000, RW);
    expect(s.hw.translateAccess(0x20, iova, true)).toEqual({ ok: true, oa: 0x6000 });
    expect(() => s.domain.map(1n << 56n, 0x1000, 0x1000, RW)).toThrow(/ERANGE/);
  });

  it('LA57 CPUs need a 5-level IOMMU for PASID (v2) domains', () => {
    const s = machine({ features: { gats: 0 }, driver: { la57: true } });
    expect(() => s.driver.domainAllocPaging(s.driver.probeDevice(0, 1), IOMMU_HWPT_ALLOC_PASID)).toThrow(/EOPNOTSUPP/);
  });

  it('an IOMMU without guest translation falls back to v1 and refuses PASID domains', () => {
    const s = machine({ features: { gt: false }, driver: { pgtable: 'v2' } });
    const dev = s.driver.probeDevice(0, 1);
    expect(s.driver.pgtable).toBe('v1');
    expect(s.driver.domainAllocPaging(dev).pdMode).toBe('v1');
    expect(() => s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID)).toThrow(/EOPNOTSUPP/);
  });

  it('without host translation (HATS = 3) domains are v2, and v1-only requests fail', () => {
    const s = machine({ features: { hats: 3 } });
    expect(s.driver.hatdis).toBe(true);
    const dev = s.driver.probeDevice(0, 1);
    expect(s.driver.domainAllocPaging(dev).pdMode).toBe('v2');
    expect(() => s.driver.domainAllocPaging(dev, 2)).toThrow(/EOPNOTSUPP/);
  });

  it('detach and free return the GCR3 tables, their DomainIDs and every table page', () => {
    const s = v2();
    s.domain.map(0x1000, 0x1000, 0x4000, RW);
    s.driver.blockDevice(s.a);
    s.driver.blockDevice(s.b);
    s.domain.free();
    expect(s.driver.pdomIds.inUse).toBe(0);
    expect(s.tables.pagesInUse).toBe(s.iommu.structurePages);
  });
});
