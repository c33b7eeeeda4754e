import { IOMMU_MMIO, IOMMU_NOEXEC, IOMMU_READ, IOMMU_WRITE } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import { CliError, configNames, formats, parseProt, parseScript, protText, resolveConfig } from '../dist/index.js';
import { bytesText, sizeLg2Text } from '../dist/dump/units.js';

describe('script parsing', () => {
  it('prot as a number or names', () => {
    expect(parseProt(3, 'x')).toBe(IOMMU_READ | IOMMU_WRITE);
    expect(parseProt('READ|WRITE', 'x')).toBe(3);
    expect(parseProt('rw', 'x')).toBe(3);
    expect(parseProt('r, noexec', 'x')).toBe(IOMMU_READ | IOMMU_NOEXEC);
    expect(parseProt('write+mmio', 'x')).toBe(IOMMU_WRITE | IOMMU_MMIO);
    for (const bad of [-1, 64, 1.5, 'x', null]) expect(() => parseProt(bad, 'x')).toThrow(CliError);
  });

  it('normalises numbers to the schema hex and drops driver callbacks and results', () => {
    const s = parseScript(
      JSON.stringify({
        steps: [
          { op: 'change_top', topLevel: 3 },
          { op: 'map', iova: 4096, paddr: '8192', len: '0x1_000', prot: 'r', result: { err: 0, mapped: '0x1000' } },
          { op: 'read_and_clear_dirty', iova: '0', size: '0x1000' },
        ],
      }),
      't',
    );
    expect(s.steps).toEqual([
      { op: 'map', iova: '0x1000', paddr: '0x2000', len: '0x1000', prot: 1 },
      { op: 'read_and_clear_dirty', iova: '0x0', size: '0x1000', flags: 0 },
    ]);
  });
});

describe('units', () => {
  it('sizes and byte counts', () => {
    expect([10, 12, 21, 30, 39, 45, 52, 63].map(sizeLg2Text)).toEqual(['1K', '4K', '2M', '1G', '512G', '32T', '4P', '8E']);
    expect(bytesText(0n)).toBe('0');
    expect(bytesText(0x40410000n)).toBe('1G+4M+64K');
    expect(bytesText(4097n)).toBe('4K+1B');
    expect(bytesText((1n << 64n) - 1n)).toBe('18446744073709551615B');
  });

  it('prot text', () => {
    expect(protText(IOMMU_READ)).toBe('r-');
    expect(protText(IOMMU_WRITE)).toBe('-w');
    expect(protText(IOMMU_READ | IOMMU_WRITE | IOMMU_NOEXEC)).toBe('rw noexec');
    expect(protText(null)).toBe('?');
  });
});

describe('configs', () => {
  it('every installed format has golden configs that initialise and a default', () => {
    for (const gf of formats.values()) {
      const names = configNames(gf.name);
      expect(names.length, gf.name).toBeGreaterThan(0);
      expect(names).toContain(resolveConfig(gf, undefined).name);
    }
    expect(configNames('amdv1')).not.toContain('start0');
    expect(resolveConfig(formats.get('amdv1')!, undefined).name).toBe('host-l6');
    expect(resolveConfig(formats.get('x86_64')!, 'amdv2-4').config).toMatchObject({ topLevel: 3, hwMaxVaszLg2: 47 });
  });
});
