/**
 * Protection domains as the kernel sets them up: page-size bitmaps and the
 * boot options that narrow them, the seed's map_pages / unmap_pages with a
 * caller-held gather, domain IDs, and the COMPLETION_WAIT protocol.
 */
import { describe, expect, it } from 'vitest';
import { IommuIotlbGather } from '@genpt/iommu-ops';
import { AMD_IOMMU_PGSIZES, IOMMU_HWPT_ALLOC_NEST_PARENT } from '../dist/index.js';
import { commandsSince, machine, names, RW } from './helpers.js';

function leafSizes(s: ReturnType<typeof machine>, domainId: number): number[] {
  return [...new Set(s.hw.iotlb.entriesOf('h' + domainId).map((e) => e.sizeLg2))].sort((a, b) => a - b);
}

describe('page sizes', () => {
  it('v1: every power of two the table can grow to, except 512 GiB, limited by HATS', () => {
    const s48 = machine();
    const d48 = s48.driver.domainAllocPaging(s48.driver.probeDevice(0, 1));
    expect(d48.pgsizeBitmap).toBe(0xff7ffffff000n); // 4 KiB .. 128 TiB
    const s64 = machine({ features: { hats: 2 } });
    const d64 = s64.driver.domainAllocPaging(s64.driver.probeDevice(0, 1));
    expect(d64.pgsizeBitmap).toBe(AMD_IOMMU_PGSIZES); // 4 KiB .. 2^51
  });

  it.each([
    ['4k', 0x1000n, [12]],
    ['v2', 0x40201000n, [12, 21]],
    ['all', 0xff7ffffff000n, [16, 21, 22]],
  ] as const)('amd_iommu=%s narrows the sizes map uses', (pgsizes, bitmap, sizes) => {
    const s = machine({ driver: { pgsizes } });
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    expect(domain.pgsizeBitmap).toBe(bitmap);
    domain.map(0x400000, 0x400000, 0x400000, RW); // 4 MiB, 4 MiB aligned
    domain.map(0x10000, 0x10000, 0x10000, RW); // 64 KiB, 64 KiB aligned
    domain.map(0x200000, 0x200000, 0x200000, RW); // 2 MiB
    for (const iova of [0x400000, 0x7ff000, 0x10000, 0x200000]) {
      expect(s.hw.translateAccess(0x10, iova, false)).toEqual({ ok: true, oa: iova });
    }
    expect(leafSizes(s, domain.id)).toEqual(sizes);
  });
});

describe('the seed ops and gathers', () => {
  it('map_pages / unmap_pages: the translation lives until the caller syncs the gather', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    expect(domain.mapPages(0x100000, 0x300000, 0x1000, 16, RW)).toBe(0x10000);
    expect(s.hw.dma(0x10, 0x10f000, 4, false).ok).toBe(true);
    const gather = new IommuIotlbGather();
    expect(domain.unmapPages(0x100000, 0x1000, 16, gather)).toBe(0x10000);
    expect(gather.toJSON()).toEqual({ start: '0x100000', end: '0x10ffff', freelist: 0 });
    // Before the sync the IOMMU may still use what it cached (the model flags it).
    expect(s.hw.dma(0x10, 0x10f000, 4, false).ok).toBe(true);
    expect(s.hw.staleHits).toHaveLength(1);
    const mark = s.hw.commandLog.length;
    domain.iotlbSync(gather);
    expect(names(commandsSince(s, mark))).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(s.hw.dma(0x10, 0x10f000, 4, false).ok).toBe(false);
  });

  it('an unmap of a range holding no mapping sends nothing', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    const mark = s.hw.commandLog.length;
    expect(domain.unmap(0x5000, 0x1000)).toBe(0);
    expect(commandsSince(s, mark)).toEqual([]);
  });
});

describe('domain ids and commands', () => {
  it('domain ids count from 1 and freed ids come back; unsupported flags are refused', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 1);
    const a = s.driver.domainAllocPaging(dev);
    const b = s.driver.domainAllocPaging(dev);
    expect([a.id, b.id]).toEqual([1, 2]);
    a.free();
    expect(s.driver.domainAllocPaging(dev).id).toBe(1);
    expect(() => s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_NEST_PARENT)).toThrow(/EOPNOTSUPP/);
    expect(() => s.driver.domainAllocPaging(dev, 1 << 7)).toThrow(/EOPNOTSUPP/);
  });

  it('COMPLETION_WAIT stores an increasing sequence number at the semaphore; the driver waits for it', () => {
    const s = machine();
    const iommu = s.driver.iommus[0]!;
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    const mark = s.hw.commandLog.length;
    const seq = iommu.cmdSemVal;
    domain.attachDev(dev);
    const waits = commandsSince(s, mark).filter((c) => c.name === 'COMPLETION_WAIT');
    expect(waits.map((c) => c.storeValue)).toEqual([BigInt(seq + 1), BigInt(seq + 2)]);
    expect(waits[0]!.words).toEqual([(iommu.cmdSem % 2 ** 32) | 1, ((0x1 << 28) | Math.floor(iommu.cmdSem / 2 ** 32)) >>> 0, seq + 1, 0]);
    expect(s.mem.read32(iommu.cmdSem)).toBe(seq + 2);
    // Nothing queued since: a wait is skipped.
    expect(iommu.needSync).toBe(false);
    const tail = iommu.cmdBufTail;
    expect(iommu.completionWait()).toBe(0);
    expect(iommu.cmdBufTail).toBe(tail);
    expect(iommu.cmdSemVal).toBe(seq + 2);
  });

  it('a full command ring is drained by waiting for the hardware', () => {
    const s = machine();
    const iommu = s.driver.iommus[0]!;
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    const before = iommu.udelays;
    // 600 INVALIDATE_DEVTAB_ENTRY without a wait: more than the 512-entry ring holds.
    for (let i = 0; i < 600; i++) expect(iommu.flushDte(0x10)).toBe(0);
    expect(iommu.udelays).toBeGreaterThan(before);
    expect(iommu.completionWait()).toBe(0);
    expect(s.hw.pendingCommands).toBe(0);
  });

  it('a stopped IOMMU makes the driver time out with EIO instead of hanging', () => {
    const s = machine();
    const iommu = s.driver.iommus[0]!;
    iommu.featureDisable(12); // CONTROL_CMDBUF_EN
    iommu.flushDte(0x10);
    expect(iommu.completionWait()).toBe(-5);
    expect(iommu.log.at(-1)).toMatch(/Completion-Wait loop timed out/);
  });
});
