/**
 * change_top: a v1 table starts with 3 levels (39-bit IOVA) and grows as
 * higher IOVAs are mapped. Every attached device's DTE must follow the new
 * root and mode, under the domain lock, before the table uses the new top —
 * and nothing mapped before may become unreachable.
 */
import { describe, expect, it } from 'vitest';
import { DevTableEntry, getDte256, ProtectionDomain, type IommuDevData } from '../dist/index.js';
import { commandsSince, machine, pattern, RW } from './helpers.js';

/** Where the test maps, and the table mode that mapping needs. */
const STEPS: Array<{ iova: bigint; oa: number; len: number; mode: number }> = [
  { iova: 0x1000n, oa: 0x10000000, len: 0x1000, mode: 3 },
  { iova: 1n << 30n, oa: 0x20000000, len: 0x200000, mode: 3 },
  { iova: (1n << 39n) + 0x5000n, oa: 0x30005000, len: 0x3000, mode: 4 },
  { iova: (1n << 48n) + (1n << 21n), oa: 0x40200000, len: 0x200000, mode: 5 },
  { iova: (1n << 57n) + 0x7000n, oa: 0x50007000, len: 0x1000, mode: 6 },
  { iova: 2n ** 64n - 0x1000n, oa: 0x60000000, len: 0x1000, mode: 6 },
];

function setup() {
  const s = machine({ features: { hats: 2 } }); // 6-level host tables: 64-bit IOVA
  const a = s.driver.probeDevice(0, 0x10);
  const b = s.driver.probeDevice(0, 0x18, { aliases: [0x19] });
  const domain = s.driver.domainAllocPaging(a);
  domain.attachDev(a);
  domain.attachDev(b);
  return { ...s, a, b, domain };
}

function dteMode(s: ReturnType<typeof setup>, devid: number): { mode: number; root: number } {
  const e = getDte256(s.driver.iommus[0]!, devid, new DevTableEntry());
  const d0 = e.data(0);
  return { mode: Number((d0 >> 9n) & 7n), root: Number(d0 & 0xffffffffff000n) };
}

/** The test a driver that forgets a device must fail: grow to 64 bits with DMA checks after each step. */
function growWithDevicesAttached(s: ReturnType<typeof setup>): void {
  for (const [i, step] of STEPS.entries()) {
    s.domain.map(step.iova, step.oa, step.len, RW);
    s.mem.writeBytes(step.oa + step.len - 16, pattern(16, i));
    const { hostPtRoot, mode } = s.domain.amdv1HwInfo();
    expect(mode).toBe(step.mode);
    for (const devid of [0x10, 0x18, 0x19]) {
      expect(dteMode(s, devid)).toEqual({ mode, root: hostPtRoot });
      // Everything mapped so far is reachable from every device.
      for (const [j, prev] of STEPS.slice(0, i + 1).entries()) {
        const r = s.hw.dma(devid, prev.iova + BigInt(prev.len - 16), 16, false);
        expect(r.ok, `device ${devid} step ${i} mapping ${j}`).toBe(true);
        expect(r.data).toEqual(pattern(16, j));
      }
    }
  }
  expect(s.hw.staleHits).toEqual([]);
}

describe('v1 top growth with devices attached', () => {
  it('keeps every earlier mapping reachable from every device as the table grows 3 -> 6 levels', () => {
    growWithDevicesAttached(setup());
  });

  it('writes the DTEs under the domain lock, before the table publishes its new top', () => {
    const s = setup();
    const dteRanges = [0x10, 0x18, 0x19].map((d) => s.driver.iommus[0]!.devTable + d * 32);
    const lockedWrites: boolean[] = [];
    const write32 = s.mem.write32.bind(s.mem);
    s.mem.write32 = (pa: number, v: number) => {
      if (dteRanges.some((b) => pa >= b && pa < b + 32)) lockedWrites.push(s.domain.lock.held);
      write32(pa, v);
    };
    const seen: Array<{ tableModeBefore: number; dteModeAfter: number; level: number }> = [];
    const real = ProtectionDomain.prototype.changeTop;
    s.domain.changeTop = function (this: ProtectionDomain, pa: number, level: number) {
      const tableModeBefore = this.amdv1HwInfo().mode;
      real.call(this, pa, level);
      seen.push({ tableModeBefore, dteModeAfter: dteMode(s, 0x18).mode, level });
    };
    s.domain.map(0x1000, 0x1000, 0x1000, RW);
    expect(lockedWrites).toEqual([]);
    s.domain.map(1n << 39n, 0x2000, 0x1000, RW);
    s.domain.map(1n << 57n, 0x3000, 0x1000, RW); // grows two levels at once: one change_top
    expect(seen).toEqual([
      { tableModeBefore: 3, dteModeAfter: 4, level: 3 },
      { tableModeBefore: 4, dteModeAfter: 6, level: 5 },
    ]);
    expect(lockedWrites.length).toBeGreaterThan(0);
    expect(lockedWrites.every((held) => held)).toBe(true);
  });

  it('change_top invalidates each DTE and alias and waits; it sends no page-range invalidation', () => {
    const s = setup();
    s.domain.map(0x1000, 0x1000, 0x1000, RW);
    const mark = s.hw.commandLog.length;
    s.domain.map(1n << 40n, 0x2000, 0x1000, RW);
    const cmds = commandsSince(s, mark);
    const devtab = new Set(cmds.filter((c) => c.name === 'INVALIDATE_DEVTAB_ENTRY').map((c) => c.deviceId));
    expect(devtab).toEqual(new Set([0x10, 0x18, 0x19]));
    // Page invalidations only come from set_dte_entry dropping the DomainID the DTE had (the whole domain).
    for (const c of cmds.filter((c) => c.name === 'INVALIDATE_IOMMU_PAGES')) {
      expect(c).toMatchObject({ domainId: s.domain.id, first: 0n, last: 2n ** 64n - 1n });
    }
    expect(cmds.at(-1)!.name).toBe('COMPLETION_WAIT');
  });

  it('a change_top that forgets one device fails the growth test: that device faults above the old top', () => {
    const s = setup();
    const real = ProtectionDomain.prototype.changeTop;
    s.domain.changeTop = function (this: ProtectionDomain, pa: number, level: number) {
      const forgotten = this.devList.pop() as IommuDevData;
      try {
        real.call(this, pa, level);
      } finally {
        this.devList.push(forgotten);
      }
    };
    expect(() => growWithDevicesAttached(s)).toThrow();
    // The forgotten device (0x10, attached first, so last in the list) still has a 3-level DTE.
    expect(dteMode(s, 0x10).mode).toBe(3);
    expect(s.hw.dma(0x10, 0x1000n + 0xff0n, 16, false).ok).toBe(true);
    const r = s.hw.dma(0x10, STEPS[2]!.iova, 16, false);
    expect(r.fault).toMatchObject({ code: 2, flags: 0 });
  });

  it('hardware with 4-level host tables caps the domain at 48 bits', () => {
    const s = machine({ features: { hats: 0 } });
    const dev = s.driver.probeDevice(0, 0x10);
    const domain = s.driver.domainAllocPaging(dev);
    domain.attachDev(dev);
    domain.map((1n << 47n) + 0x1000n, 0x1000, 0x1000, RW);
    expect(domain.amdv1HwInfo().mode).toBe(4);
    expect(() => domain.map(1n << 48n, 0x1000, 0x1000, RW)).toThrow(/ERANGE/);
    expect(s.hw.translateAccess(0x10, (1n << 47n) + 0x1000n, false)).toEqual({ ok: true, oa: 0x1000 });
  });
});
