/**
 * NpCache: an IOMMU (typically a hypervisor's virtual one) that caches
 * not-present translations. The driver then flushes after every map
 * (iotlb_sync_map), keeps gathers gap-free, and splits range flushes into
 * naturally aligned blocks.
 */
import { describe, expect, it } from 'vitest';
import { commandsSince, machine, names, RW, skipFlushes } from './helpers.js';

function npc() {
  const s = machine({ features: { npCache: true } });
  const dev = s.driver.probeDevice(0, 0x10);
  const domain = s.driver.domainAllocPaging(dev);
  domain.attachDev(dev);
  return { ...s, dev, domain };
}

/** The test a driver without the post-map flush must fail. */
function faultThenMapThenDma(s: ReturnType<typeof npc>): void {
  // The device touches the IOVA before it is mapped: the IOMMU caches "not present".
  expect(s.hw.dma(0x10, 0x5000, 4, false).ok).toBe(false);
  s.domain.map(0x5000, 0x9000, 0x1000, RW);
  expect(s.hw.dma(0x10, 0x5000, 4, false).ok).toBe(true);
  expect(s.hw.staleHits).toEqual([]);
}

describe('NpCache', () => {
  it('domains use FLUSH_RANGE_NO_GAPS', () => {
    const s = npc();
    expect(s.driver.npCache).toBe(true);
    expect(s.domain.table.featureNames()).toContain('FLUSH_RANGE_NO_GAPS');
    const plain = machine().driver;
    expect(plain.domainAllocPaging(plain.probeDevice(0, 1)).table.featureNames()).toContain('FLUSH_RANGE');
  });

  it('map is followed by a flush of the mapped range', () => {
    const s = npc();
    const mark = s.hw.commandLog.length;
    s.domain.map(0x40000000, 0x40000000, 0x200000, RW);
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(cmds[0]).toMatchObject({ first: 0x40000000n, last: 0x401fffffn });
  });

  it('without NpCache map sends nothing', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    const mark = s.hw.commandLog.length;
    domain.map(0x40000000, 0x40000000, 0x200000, RW);
    expect(commandsSince(s, mark)).toEqual([]);
  });

  it('a cached fault is cleared by the flush after map', () => {
    faultThenMapThenDma(npc());
  });

  it('a driver that skips the post-map flush fails that test: the device keeps faulting', () => {
    const s = npc();
    skipFlushes(s.domain);
    expect(() => faultThenMapThenDma(s)).toThrow();
    expect(s.hw.staleHits[0]).toMatchObject({ kind: 'iotlb', iova: 0x5000n, cachedOa: null, freshOa: 0x9000n });
  });

  it('range flushes are split into naturally aligned blocks', () => {
    const s = npc();
    s.domain.map(0x3000, 0x3000, 0x5000, RW);
    const mark = s.hw.commandLog.length;
    s.domain.unmap(0x3000, 0x5000);
    const cmds = commandsSince(s, mark);
    expect(names(cmds)).toEqual(['INVALIDATE_IOMMU_PAGES', 'INVALIDATE_IOMMU_PAGES', 'COMPLETION_WAIT']);
    expect(cmds.slice(0, 2).map((c) => [c.first, c.last])).toEqual([
      [0x3000n, 0x3fffn],
      [0x4000n, 0x7fffn],
    ]);
  });

  it('a whole-domain flush becomes 63 aligned pieces; those past 2^52 encode as "everything"', () => {
    const s = npc();
    const mark = s.hw.commandLog.length;
    s.domain.flushIotlbAll();
    const inv = commandsSince(s, mark).filter((c) => c.name === 'INVALIDATE_IOMMU_PAGES');
    expect(inv).toHaveLength(63);
    // Pieces of 2^62 .. 2^53 bytes differ from their start above bit 51: build_inv_address
    // turns them into the all-pages address (as the kernel does).
    for (const c of inv.slice(0, 10)) expect([c.first, c.last]).toEqual([0n, 2n ** 64n - 1n]);
    expect([inv[10]!.first, inv[10]!.last]).toEqual([2n ** 63n - 2n ** 53n, 2n ** 63n - 2n ** 52n - 1n]);
    // The rest tile up to 2^63; the byte-sized tail pieces all land in (and flush) the last page.
    let covered = 2n ** 63n - 2n ** 53n;
    for (const c of inv.slice(10)) {
      expect(c.first! <= covered).toBe(true);
      if (c.last! + 1n > covered) covered = c.last! + 1n;
    }
    expect(covered).toBe(2n ** 63n);
  });
});
