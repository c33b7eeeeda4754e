/**
 * Hostile arguments to the driver and the hardware model: each is EINVAL
 * naming the argument, and nothing changes (no DTE written, no access
 * translated, no event logged, no domain ID taken).
 */
import { isPtError } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import type { IommuDevData } from '../dist/index.js';
import { machine, RW } from './helpers.js';

function code(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (!isPtError(e)) throw e;
    return e.code;
  }
}

function setup() {
  const s = machine();
  const dev = s.driver.probeDevice(0, 0x10);
  const domain = s.driver.domainAllocPaging(dev);
  domain.attachDev(dev);
  domain.map(0x100000, 0x80000000, 0x2000, RW);
  return { ...s, dev, domain };
}

const junk: unknown[] = [null, undefined, {}, 5, 'x', [], () => 0];

describe('hardware model: device IDs and DMA buffers', () => {
  it('translateAccess refuses a device ID that is not a 16-bit integer instead of bypassing translation', () => {
    const s = setup();
    const faults = s.hw.stats.faults;
    for (const id of [16.5, -1, -32, 0x10000, 2 ** 40, NaN, Infinity, undefined, 'x', '16', 16n]) {
      expect(
        code(() => s.hw.translateAccess(id as number, 0x100000, false)),
        String(id),
      ).toBe('EINVAL');
    }
    expect(s.hw.stats.faults).toBe(faults);
    // The real device still translates.
    expect(s.hw.translateAccess(0x10, 0x100000, false)).toEqual({ ok: true, oa: 0x80000000 });
    expect(code(() => s.hw.translateAccess(0x10, 0x100000, 'yes' as never))).toBe('EINVAL');
  });

  it('dma refuses write data that is not a long enough Uint8Array; memory is unchanged', () => {
    const s = setup();
    s.mem.writeBytes(0x80000000, new Uint8Array([1, 2, 3]));
    for (const data of [null, 'abc', [1, 2, 3], { length: 3 }, new Uint8Array(2), new Uint16Array(3)]) {
      expect(
        code(() => s.hw.dma(0x10, 0x100000, 3, true, data as Uint8Array)),
        String(data),
      ).toBe('EINVAL');
    }
    expect(code(() => s.hw.dma(0x10, 0x100000, 3, 1 as never))).toBe('EINVAL');
    expect(code(() => s.hw.dma(16.5, 0x100000, 3, false))).toBe('EINVAL');
    const r = s.hw.dma(0x10, 0x100000, 3, false);
    expect([...r.data!]).toEqual([1, 2, 3]);
  });
});

describe('driver: devices and flags', () => {
  it('domainAllocPaging, blockDevice and attachDev refuse what is not a device of this driver', () => {
    const s = setup();
    const ids = s.driver.pdomIds.inUse;
    for (const d of junk) {
      expect(
        code(() => s.driver.domainAllocPaging(d as IommuDevData)),
        String(d),
      ).toBe('EINVAL');
      expect(
        code(() => s.driver.blockDevice(d as IommuDevData)),
        String(d),
      ).toBe('EINVAL');
      expect(
        code(() => s.domain.attachDev(d as IommuDevData)),
        String(d),
      ).toBe('EINVAL');
    }
    // A device another driver instance probed would program that instance's device table.
    const other = machine().driver.probeDevice(0, 0x11);
    expect(code(() => s.domain.attachDev(other))).toBe('EINVAL');
    expect(code(() => s.driver.blockDevice(other))).toBe('EINVAL');
    expect(code(() => s.driver.domainAllocPaging(other))).toBe('EINVAL');
    expect(other.domain).toBe(null);
    expect(s.driver.pdomIds.inUse).toBe(ids);
    // The attached device still translates through the domain.
    expect(s.hw.translateAccess(0x10, 0x101000, false)).toEqual({ ok: true, oa: 0x80001000 });
  });

  it('domainAllocPaging flags must be a u32 (EINVAL); unknown bits are EOPNOTSUPP as in the kernel', () => {
    const s = setup();
    for (const f of [null, 'x', NaN, 1.5, -1, 2 ** 32]) {
      expect(
        code(() => s.driver.domainAllocPaging(s.dev, f as number)),
        String(f),
      ).toBe('EINVAL');
    }
    expect(code(() => s.driver.domainAllocPaging(s.dev, 1 << 20))).toBe('EOPNOTSUPP');
  });

  it('probeDevice refuses a non-integer IOMMU index and a malformed options bag', () => {
    const s = setup();
    expect(code(() => s.driver.probeDevice('0' as never, 0x12))).toBe('EINVAL');
    expect(code(() => s.driver.probeDevice(0, 0x12, null as never))).toBe('EINVAL');
    expect(code(() => s.driver.probeDevice(0, 0x12, { aliases: 5 as never }))).toBe('EINVAL');
    expect(code(() => s.driver.probeDevice(7, 0x12))).toBe('ENODEV');
  });

  it('the domain refuses prot past 32 bits rather than mapping its low bits', () => {
    const s = setup();
    expect(code(() => s.domain.map(0x200000, 0x80000000, 0x1000, 2 ** 32 + 3))).toBe('EINVAL');
    expect(s.domain.iovaToPhys(0x200000)).toBe(0);
  });
});
