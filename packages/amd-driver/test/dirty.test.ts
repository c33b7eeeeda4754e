/**
 * Dirty tracking: with DTE HAD = 11b the IOMMU sets D in the leaf a DMA
 * write goes through; read_and_clear_dirty reports and clears those leaves,
 * and the flush of its gather makes the next write set D again.
 */
import { describe, expect, it } from 'vitest';
import {
  AmdIommuDriver,
  AmdIommuHw,
  IOMMU_DIRTY_NO_CLEAR,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_PASID,
  SystemMemory,
} from '../dist/index.js';
import { TableMemory } from '@genpt/pt-core';
import { machine, RW, skipFlushes } from './helpers.js';

function tracked() {
  const s = machine();
  const a = s.driver.probeDevice(0, 0x10);
  const b = s.driver.probeDevice(0, 0x20);
  const domain = s.driver.domainAllocPaging(a, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
  domain.attachDev(a);
  domain.attachDev(b);
  // Single 4 KiB leaves (the OA is only 4 KiB aligned), a 2 MiB leaf, a 64 KiB contiguous leaf.
  domain.map(0x10000, 0x101000, 0x4000, RW);
  domain.map(0x200000, 0x40000000, 0x200000, RW);
  domain.map(0x400000, 0x50000000, 0x10000, RW);
  return { ...s, a, b, domain };
}

const ALL = 1 << 30;

/** The behaviour a driver must get right: dirty state reported exactly, once per write. */
function dirtyExactly(s: ReturnType<typeof tracked>): void {
  s.domain.setDirtyTracking(true);
  // Reads mark nothing dirty.
  for (const iova of [0x11000, 0x200000, 0x400000]) expect(s.hw.dma(0x10, iova, 8, false).ok).toBe(true);
  expect(s.domain.readAndClearDirty(0, ALL)).toEqual([]);

  expect(s.hw.dma(0x10, 0x11ff0, 8, true).ok).toBe(true);
  expect(s.hw.dma(0x20, 0x201234, 8, true).ok).toBe(true);
  expect(s.hw.dma(0x20, 0x408000, 8, true).ok).toBe(true);
  // Linux 7.0 reports a whole contiguous entry one item short (0xf000 of 0x10000).
  expect(s.domain.readAndClearDirty(0, ALL)).toEqual([
    [0x11000, 0x1000],
    [0x200000, 0x200000],
    [0x400000, 0xf000],
  ]);
  expect(s.domain.readAndClearDirty(0, ALL)).toEqual([]);

  // The cached translations were flushed with the clear, so writing again marks again.
  expect(s.hw.dma(0x10, 0x11000, 8, true).ok).toBe(true);
  expect(s.hw.dma(0x20, 0x13000, 0x20, true).ok).toBe(true);
  expect(s.domain.readAndClearDirty(0, ALL)).toEqual([
    [0x11000, 0x1000],
    [0x13000, 0x1000],
  ]);
  expect(s.hw.staleHits).toEqual([]);
}

describe('dirty tracking', () => {
  it('DMA writes set D; read_and_clear_dirty reports and clears exactly those leaves', () => {
    dirtyExactly(tracked());
  });

  it('a driver that does not flush after clearing D fails that test: later writes go unseen', () => {
    const s = tracked();
    // A double that drops set_dirty_tracking's full flush and the flush of the first clear's gather:
    // the IOTLB keeps entries that say "already dirty", so the IOMMU never sets D again.
    const double = skipFlushes(s.domain, 2);
    // The rewrite of 0x11000 (cached as dirty) is lost; 0x13000 (never cached) is still seen.
    expect(() => dirtyExactly(s)).toThrow(
      `expected [ [ ${0x13000}, 4096 ] ] to deeply equal [ [ ${0x11000}, 4096 ], [ ${0x13000}, 4096 ] ]`,
    );
    expect(double.skipped).toBe(2);
  });

  it('IOMMU_DIRTY_NO_CLEAR reports without clearing', () => {
    const s = tracked();
    s.domain.setDirtyTracking(true);
    s.hw.dma(0x10, 0x200000, 8, true);
    expect(s.domain.readAndClearDirty(0x200000, 0x200000, IOMMU_DIRTY_NO_CLEAR)).toEqual([[0x200000, 0x200000]]);
    expect(s.domain.readAndClearDirty(0, ALL)).toEqual([[0x200000, 0x200000]]);
    expect(s.domain.readAndClearDirty(0, ALL)).toEqual([]);
  });

  it('with tracking off the IOMMU does not set D', () => {
    const s = tracked();
    s.hw.dma(0x10, 0x11000, 8, true);
    expect(s.domain.readAndClearDirty(0, ALL)).toEqual([]);
    s.domain.setDirtyTracking(true);
    s.hw.dma(0x10, 0x11000, 8, true);
    s.domain.setDirtyTracking(false);
    s.hw.dma(0x10, 0x12000, 8, true);
    expect(s.domain.readAndClearDirty(0, ALL)).toEqual([[0x11000, 0x1000]]);
  });

  it('a write through a translation cached by a read still sets D', () => {
    const s = tracked();
    s.domain.setDirtyTracking(true);
    s.hw.dma(0x10, 0x200000, 8, false);
    const hits = s.hw.stats.iotlbHits;
    s.hw.dma(0x10, 0x200008, 8, true);
    expect(s.hw.stats.iotlbHits).toBe(hits); // not served from the clean entry
    expect(s.domain.readAndClearDirty(0, ALL)).toEqual([[0x200000, 0x200000]]);
  });

  it('domains without dirty ops refuse', () => {
    const s = machine();
    const dev = s.driver.probeDevice(0, 1);
    expect(() => s.driver.domainAllocPaging(dev).readAndClearDirty(0, 0x1000)).toThrow(/EOPNOTSUPP/);
    expect(() => s.driver.domainAllocPaging(dev, IOMMU_HWPT_ALLOC_PASID).setDirtyTracking(true)).toThrow(/EOPNOTSUPP/);
  });

  it('needs HDSUP: no dirty domain on IOMMUs without it, and no attach to them', () => {
    const mem = new SystemMemory(new TableMemory());
    const withHd = new AmdIommuHw(mem);
    const without = new AmdIommuHw(mem, { features: { hdsup: false } });
    const driver = AmdIommuDriver.init(mem, [withHd, without], { lastBdf: 0xff });
    const ok = driver.probeDevice(0, 1);
    const bad = driver.probeDevice(1, 2);
    expect(() => driver.domainAllocPaging(bad, IOMMU_HWPT_ALLOC_DIRTY_TRACKING)).toThrow(/EOPNOTSUPP/);
    const domain = driver.domainAllocPaging(ok, IOMMU_HWPT_ALLOC_DIRTY_TRACKING);
    domain.attachDev(ok);
    expect(() => domain.attachDev(bad)).toThrow(/EINVAL/);
    domain.map(0x1000, 0x1000, 0x1000, RW);
    expect(withHd.dma(1, 0x1000, 4, false).ok).toBe(true);
  });
});
