/**
 * End to end through the driver API and the hardware's DMA port: what a
 * device reads and writes lands where the mappings say, unmapped IOVAs
 * fault into the event log, and a driver that skips an invalidation is
 * caught by the IOTLB.
 */
import { describe, expect, it } from 'vitest';
import { createAmdIommuSystem, IOMMU_FAULT_WRITE, type AmdIommuSystem, type ProtectionDomain } from '../dist/index.js';
import { commandsSince, machine, names, pattern, R, RW, skipFlushes, W } from './helpers.js';

const DEV = 0x10;

function attached(sys: AmdIommuSystem = machine()) {
  const dev = sys.driver.probeDevice(0, DEV);
  const domain = sys.driver.domainAllocPaging(dev);
  domain.attachDev(dev);
  return { ...sys, dev, domain, iommu: sys.driver.iommus[0]! };
}

describe('DMA through a v1 domain', () => {
  it('reads and writes land on the mapped OA for 4 KiB, contiguous and 2 MiB leaves', () => {
    const s = attached();
    const maps: Array<[number, number, number]> = [
      [0x100000, 0x80000000, 0x1000], // one 4 KiB leaf
      [0x210000, 0x90010000, 0x10000], // a 64 KiB contiguous leaf (16 items, NL=7)
      [0x40000000, 0xa0000000, 0x200000], // a 2 MiB leaf at level 1
      [0x1000000, 0xb0000000, 0x400000], // a 4 MiB contiguous leaf at level 1
    ];
    for (const [iova, oa, len] of maps) s.domain.map(iova, oa, len, RW);
    for (const [i, [iova, oa, len]] of maps.entries()) {
      for (const off of [0, len / 2 - 8, len - 16]) {
        const data = pattern(16, i * 1000 + off);
        s.mem.writeBytes(oa + off, data);
        const r = s.hw.dma(DEV, iova + off, 16, false);
        expect(r.ok).toBe(true);
        expect(r.data).toEqual(data);
        const w = pattern(16, i * 7777 + off + 1);
        expect(s.hw.dma(DEV, iova + off, 16, true, w)).toEqual({ ok: true, bytes: 16 });
        expect(s.mem.readBytes(oa + off, 16)).toEqual(w);
      }
    }
    // The walker saw the sizes the format wrote.
    const sizes = s.hw.iotlb.entriesOf('h' + s.domain.id).map((e) => e.sizeLg2);
    expect(new Set(sizes)).toEqual(new Set([12, 16, 21, 22]));
    expect(s.hw.staleHits).toEqual([]);
  });

  it('a DMA crossing pages follows each page to its own OA', () => {
    const s = attached();
    s.domain.map(0x5000, 0x7000000, 0x1000, RW);
    s.domain.map(0x6000, 0x3000000, 0x1000, RW);
    const data = pattern(0x200, 3);
    expect(s.hw.dma(DEV, 0x5f00, 0x200, true, data).ok).toBe(true);
    expect(s.mem.readBytes(0x7000f00, 0x100)).toEqual(data.subarray(0, 0x100));
    expect(s.mem.readBytes(0x3000000, 0x100)).toEqual(data.subarray(0x100));
    expect(s.hw.dma(DEV, 0x5f00, 0x200, false).data).toEqual(data);
  });

  it('a DMA running into a hole transfers up to it, then faults there', () => {
    const s = attached();
    s.domain.map(0x5000, 0x7000000, 0x1000, RW);
    const r = s.hw.dma(DEV, 0x5ff0, 0x20, true, pattern(0x20, 1));
    expect(r.ok).toBe(false);
    expect(r.bytes).toBe(0x10);
    expect(r.fault).toMatchObject({ code: 2, deviceId: DEV, domainId: s.domain.id, address: 0x6000, flags: 0x20 });
    const ev = s.iommu.pollEvents();
    expect(ev).toHaveLength(1);
    expect(ev[0]).toMatchObject({ name: 'IO_PAGE_FAULT', deviceId: DEV, domainId: s.domain.id, address: 0x6000, flags: 0x20 });
  });

  it('permissions: a read-only page refuses writes (PR set), a write-only page refuses reads', () => {
    const s = attached();
    s.domain.map(0x1000, 0x100000, 0x1000, R);
    s.domain.map(0x2000, 0x200000, 0x1000, W);
    expect(s.hw.dma(DEV, 0x1000, 4, false).ok).toBe(true);
    expect(s.hw.dma(DEV, 0x1000, 4, true).fault).toMatchObject({ flags: 0x30, address: 0x1000 });
    expect(s.hw.dma(DEV, 0x2000, 4, true).ok).toBe(true);
    expect(s.hw.dma(DEV, 0x2000, 4, false).fault).toMatchObject({ flags: 0x10, address: 0x2000 });
    expect(s.iommu.pollEvents().map((e) => e.flags)).toEqual([0x30, 0x10]);
  });

  it('iova_to_phys agrees with where DMA goes', () => {
    const s = attached();
    s.domain.map(0x40000000, 0x1c0000000, 0x200000, RW);
    expect(s.domain.iovaToPhys(0x40123456)).toBe(0x1c0123456);
    const r = s.hw.translateAccess(DEV, 0x40123456, false);
    expect(r).toEqual({ ok: true, oa: 0x1c0123456 });
  });
});

/** The test the test double must fail: after unmap, the device's DMA faults and is logged. */
function unmapThenDmaFaults(s: ReturnType<typeof attached>): void {
  s.domain.map(0x100000, 0x80000000, 0x2000, RW);
  s.mem.writeBytes(0x80001000, pattern(64, 9));
  // The device uses the mapping, so the IOTLB holds it.
  expect(s.hw.dma(DEV, 0x101000, 64, false).data).toEqual(pattern(64, 9));
  expect(s.domain.unmap(0x100000, 0x2000)).toBe(0x2000);
  const r = s.hw.dma(DEV, 0x101000, 64, false);
  expect(r.ok).toBe(false);
  expect(r.fault).toMatchObject({ code: 2, address: 0x101000, flags: 0 });
  const ev = s.iommu.pollEvents();
  expect(ev.map((e) => e.message)).toEqual([
    'Event logged [IO_PAGE_FAULT device=0000:00:02.0 domain=0x0001 address=0x101000 flags=0x0000]',
  ]);
  expect(s.hw.staleHits).toEqual([]);
}

describe('unmap and invalidation', () => {
  it('unmap then DMA faults, and the fault is in the event log', () => {
    unmapThenDmaFaults(attached());
  });

  it('a driver that skips one invalidation fails that test: the DMA uses the stale IOTLB entry', () => {
    const s = attached();
    const double = skipFlushes(s.domain);
    expect(() => unmapThenDmaFaults(s)).toThrow();
    expect(double.skipped).toBe(1);
    // What went wrong: the read after unmap still reached the old page, and the model flagged it.
    expect(s.hw.dma(DEV, 0x101000, 64, false)).toMatchObject({ ok: true, data: pattern(64, 9) });
    expect(s.hw.staleHits[0]).toMatchObject({ kind: 'iotlb', deviceId: DEV, iova: 0x101000n, cachedOa: 0x80001000n, freshOa: null });
  });

  it('unmap sends INVALIDATE_IOMMU_PAGES for the gathered range (S, PDE, DomainID), then COMPLETION_WAIT', () => {
    const s = attached();
    s.domain.map(0x40000000, 0x80000000, 0x200000, RW);
    const mark = s.hw.commandLog.length;
    expect(s.domain.unmap(0x40000000, 0x200000)).toBe(0x200000);
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    // build_inv_address(0x40000000, 2 MiB) = 0x400ff000 | S; PDE always; DomainID in word 1.
    expect(cmds[0]!.words).toEqual([0, ((0x3 << 28) | s.domain.id) >>> 0, 0x400ff000 | 0x3, 0]);
    expect(cmds[0]).toMatchObject({ s: true, pde: true, gn: false, first: 0x40000000n, last: 0x401fffffn });
  });

  it('a 4 KiB unmap invalidates exactly that page (S clear)', () => {
    const s = attached();
    s.domain.map(0x7000, 0x9000, 0x1000, RW);
    const mark = s.hw.commandLog.length;
    s.domain.unmap(0x7000, 0x1000);
    const [inv] = commandsSince(s, mark);
    expect(inv).toMatchObject({ name: 'INVALIDATE_IOMMU_PAGES', s: false, pde: true, first: 0x7000n, last: 0x7fffn });
  });

  it('an unaligned range is flushed as the smallest aligned block holding it', () => {
    const s = attached();
    s.domain.map(0x3000, 0x3000, 0x5000, RW); // [0x3000, 0x8000)
    const mark = s.hw.commandLog.length;
    s.domain.unmap(0x3000, 0x5000);
    const [inv] = commandsSince(s, mark);
    // [0x3000, 0x7fff] lies in the 32 KiB block at 0.
    expect(inv).toMatchObject({ first: 0x0n, last: 0x7fffn });
  });

  it('flush_iotlb_all invalidates the whole domain (all-pages address)', () => {
    const s = attached();
    s.domain.map(0x1000, 0x1000, 0x1000, RW);
    s.hw.dma(DEV, 0x1000, 1, false);
    const mark = s.hw.commandLog.length;
    s.domain.flushIotlbAll();
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(cmds[0]!.words[2]).toBe(0xfffff003);
    expect(cmds[0]!.words[3]).toBe(0x7fffffff);
    expect(cmds[0]).toMatchObject({ first: 0n, last: 2n ** 64n - 1n });
    expect(s.hw.iotlb.size).toBe(0);
  });

  it('a driver that never waits for completion leaves the invalidation unexecuted', () => {
    const s = attached();
    s.domain.map(0x100000, 0x80000000, 0x1000, RW);
    s.hw.dma(DEV, 0x100000, 8, false);
    // Skip COMPLETION_WAIT: queue the commands but never give the IOMMU time.
    s.iommu.completionWait = () => 0;
    s.domain.unmap(0x100000, 0x1000);
    expect(s.hw.pendingCommands).toBeGreaterThan(0);
    expect(s.hw.dma(DEV, 0x100000, 8, false).ok).toBe(true);
    expect(s.hw.staleHits).toHaveLength(1);
  });
});

describe('devices and domains', () => {
  it('a probed device with no domain is blocked; attach opens it; detach blocks it again', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, DEV);
    expect(s.hw.dma(DEV, 0x1000, 4, false).ok).toBe(false);
    const domain = s.driver.domainAllocPaging(dev);
    domain.map(0x1000, 0x5000, 0x1000, RW);
    domain.attachDev(dev);
    expect(s.hw.dma(DEV, 0x1000, 4, false).ok).toBe(true);
    s.driver.blockDevice(dev);
    expect(dev.domain).toBeNull();
    expect(s.hw.dma(DEV, 0x1000, 4, false).ok).toBe(false);
    expect(s.hw.staleHits).toEqual([]);
  });

  it('two devices in one domain see the same mappings; detaching one leaves the other working', () => {
    const s = attached();
    const dev2 = s.driver.probeDevice(0, 0x18);
    s.domain.attachDev(dev2);
    s.domain.map(0x10000, 0x20000, 0x1000, RW);
    s.hw.dma(DEV, 0x10000, 4, true, Uint8Array.of(1, 2, 3, 4));
    expect(s.hw.dma(0x18, 0x10000, 4, false).data).toEqual(Uint8Array.of(1, 2, 3, 4));
    expect(s.domain.devList).toEqual([dev2, s.dev]);
    s.driver.blockDevice(s.dev);
    expect(s.hw.dma(DEV, 0x10000, 4, false).ok).toBe(false);
    expect(s.hw.dma(0x18, 0x10000, 4, false).ok).toBe(true);
  });

  it('moving a device to another domain switches its translations', () => {
    const s = attached();
    const other = s.driver.domainAllocPaging(s.dev);
    s.domain.map(0x1000, 0x100000, 0x1000, RW);
    other.map(0x1000, 0x200000, 0x1000, RW);
    expect(s.hw.translateAccess(DEV, 0x1000, false)).toEqual({ ok: true, oa: 0x100000 });
    other.attachDev(s.dev);
    expect(s.dev.domain).toBe(other);
    expect(s.domain.devList).toEqual([]);
    expect(s.hw.translateAccess(DEV, 0x1000, false)).toEqual({ ok: true, oa: 0x200000 });
    expect(s.hw.staleHits).toEqual([]);
  });

  it('a fault handler that handles the fault suppresses the log line', () => {
    const s = attached();
    const seen: Array<[number, number]> = [];
    s.domain.faultHandler = (_d: ProtectionDomain, dev, iova, flags) => {
      seen.push([dev.devid, Number(iova) + flags]);
      return 0;
    };
    s.hw.dma(DEV, 0x3000, 4, true);
    const ev = s.iommu.pollEvents();
    expect(ev[0]).toMatchObject({ handled: true, message: '' });
    expect(seen).toEqual([[DEV, 0x3000 + IOMMU_FAULT_WRITE]]);
    expect(s.iommu.log.filter((l) => l.includes('IO_PAGE_FAULT'))).toEqual([]);
  });

  it('DMA aliases get a copy of the DTE and their own DTE invalidations', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x20, { aliases: [0x28] });
    const domain = s.driver.domainAllocPaging(dev);
    const mark = s.hw.commandLog.length;
    domain.attachDev(dev);
    const inv = commandsSince(s, mark)
      .filter((c) => c.name === 'INVALIDATE_DEVTAB_ENTRY')
      .map((c) => c.deviceId);
    expect(new Set(inv)).toEqual(new Set([0x20, 0x28]));
    domain.map(0x8000, 0x9000, 0x1000, RW);
    expect(s.hw.translateAccess(0x28, 0x8000, true)).toEqual({ ok: true, oa: 0x9000 });
  });

  it('ATS devices get DTE.I and INVALIDATE_IOTLB_PAGES with every flush', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x30, { ats: true, atsQdep: 8 });
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    expect(s.mem.read32(s.driver.iommus[0]!.devTable + 0x30 * 32 + 12) & 1).toBe(1);
    domain.map(0x40000, 0x40000, 0x1000, RW);
    const mark = s.hw.commandLog.length;
    domain.unmap(0x40000, 0x1000);
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'INVALIDATE_IOTLB_PAGES', 'COMPLETION_WAIT']);
    expect(cmds[1]!.words).toEqual([0x30 | (8 << 24), ((0x4 << 28) | 0x30) >>> 0, 0x40000, 0]);
  });

  it('a domain spanning two IOMMUs flushes on both', () => {
    const s = createAmdIommuSystem({ iommus: 2, driver: { lastBdf: 0xff } });
    const a = s.driver.probeDevice(0, 0x10);
    const b = s.driver.probeDevice(1, 0x10);
    const domain = s.driver.domainAllocPaging(a);
    domain.attachDev(a);
    domain.attachDev(b);
    domain.map(0x1000, 0x2000, 0x1000, RW);
    expect(s.hws[0]!.dma(0x10, 0x1000, 4, false).ok).toBe(true);
    expect(s.hws[1]!.dma(0x10, 0x1000, 4, false).ok).toBe(true);
    const marks = s.hws.map((h) => h.commandLog.length);
    domain.unmap(0x1000, 0x1000);
    for (const [i, h] of s.hws.entries()) {
      expect(names(h.commandLog.slice(marks[i]))).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
      expect(h.dma(0x10, 0x1000, 4, false).ok).toBe(false);
    }
  });

  it('a map that replaces empty tables with a large page flushes and frees them', () => {
    const s = attached();
    s.domain.map(0x200000, 0x1000, 0x1000, RW);
    s.hw.dma(DEV, 0x200000, 4, false); // caches the walk through the level-1 table
    s.domain.unmap(0x200000, 0x1000); // leaves an empty level-0 table
    const pages = s.tables.pagesInUse;
    const mark = s.hw.commandLog.length;
    s.domain.map(0x200000, 0x40000000, 0x200000, RW);
    expect(names(commandsSince(s, mark))).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(s.tables.pagesInUse).toBe(pages - 1);
    expect(s.hw.translateAccess(DEV, 0x200000, false)).toEqual({ ok: true, oa: 0x40000000 });
    expect(s.hw.staleHits).toEqual([]);
  });

  it('freeing everything returns every table page and domain id', () => {
    const s = attached();
    const base = s.tables.pagesInUse;
    s.domain.map(0x1000, 0x1000, 0x10000, RW);
    s.domain.map(2 ** 38, 0x1000000, 0x400000, RW);
    expect(s.tables.pagesInUse).toBeGreaterThan(base);
    s.driver.blockDevice(s.dev);
    s.domain.free();
    expect(s.driver.pdomIds.inUse).toBe(0);
    expect(s.tables.pagesInUse).toBe(s.driver.iommus[0]!.structurePages);
    expect(s.driver.warnings).toEqual([]);
    expect(() => s.domain.map(0, 0, 0x1000, RW)).toThrow(/ENODEV/);
  });

  it('bad DMA input is refused with typed errors', () => {
    const s = attached();
    expect(() => s.hw.dma(0x10000, 0, 4, false)).toThrow(/EINVAL/);
    expect(() => s.hw.dma(DEV, -1, 4, false)).toThrow(/EINVAL/);
    expect(() => s.hw.dma(DEV, 0, 0, false)).toThrow(/EINVAL/);
    expect(() => s.hw.dma(DEV, 2n ** 64n - 2n, 4, false)).toThrow(/EOVERFLOW/);
    expect(() => s.hw.dma(DEV, 0, 4, true, new Uint8Array(2))).toThrow(/EINVAL/);
  });
});
