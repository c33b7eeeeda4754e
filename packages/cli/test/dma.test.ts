import { describe, expect, it } from 'vitest';
import { genpt } from './run-cli.js';

const STEPS = [
  { op: 'mem_write', paddr: '0x80000000', data: 'deadbeef00112233' },
  { op: 'map', iova: '0x1000', paddr: '0x80000000', len: '0x1000', prot: 'r' },
  { op: 'map', iova: '0x200000', paddr: '0x40000000', len: '0x200000', prot: 'rw' },
  { op: 'dma', iova: '0x1000', len: 8 },
  { op: 'dma', iova: '0x1000', write: true, data: '00ff' },
  { op: 'dma', iova: '0x200ff0', write: true, data: '0102030405060708090a0b0c0d0e0f10' },
  { op: 'mem_read', paddr: '0x40000ff0', len: 16 },
  { op: 'dma', iova: '0x1ffc', len: 8 },
  { op: 'unmap', iova: '0x1000', len: '0x1000' },
  { op: 'dma', iova: '0x1000', len: 8 },
  { op: 'events' },
  { op: 'iova_to_phys', iova: '0x200010' },
];

interface Step {
  op: string;
  result: {
    ok?: boolean;
    bytes?: number;
    data?: string;
    fault?: { name: string; address: string; flags: string };
    err?: unknown;
  } & unknown[];
}

describe('genpt run with the AMD IOMMU model (amd-iommu scripts)', () => {
  for (const format of ['amdv1', 'x86_64']) {
    it(`${format}: DMA reads and writes land where the maps say; faults stop them and reach the event log`, () => {
      const r = genpt(['run', '-', '--json'], JSON.stringify({ machine: 'amd-iommu', format, steps: STEPS }));
      expect(r.status, r.stderr).toBe(0);
      const run = JSON.parse(r.stdout) as { format: string; domain: { pdMode: string }; steps: Step[] };
      expect(run.format).toBe(format);
      expect(run.domain.pdMode).toBe(format === 'amdv1' ? 'v1' : 'v2');
      const s = run.steps;
      expect(s[1]!.result).toEqual({ err: 0 });
      // a read through the IOMMU sees what the CPU wrote at the OA
      expect(s[3]!.result).toEqual({ ok: true, bytes: 8, data: 'deadbeef00112233' });
      // a read-only page refuses a write: IO_PAGE_FAULT with PR|RW
      expect(s[4]!.result).toMatchObject({ ok: false, bytes: 0, fault: { name: 'IO_PAGE_FAULT', address: '0x1000', flags: '0x30' } });
      // a write through the 2M page lands at its OA
      expect(s[5]!.result).toEqual({ ok: true, bytes: 16 });
      expect(s[6]!.result).toBe('0102030405060708090a0b0c0d0e0f10');
      // a read running off the mapped page moves what it can, then faults at the hole
      expect(s[7]!.result).toMatchObject({
        ok: false,
        bytes: 4,
        data: '00000000',
        fault: { name: 'IO_PAGE_FAULT', address: '0x2000', flags: '0x0' },
      });
      // after unmap (and the driver's invalidation) the page is gone for the device too
      expect(s[9]!.result).toMatchObject({ ok: false, bytes: 0, fault: { address: '0x1000' } });
      const events = s[10]!.result as unknown as Array<{ name: string; address: string; flags: string }>;
      expect(events.map((e) => [e.name, e.address, e.flags])).toEqual([
        ['IO_PAGE_FAULT', '0x1000', '0x30'],
        ['IO_PAGE_FAULT', '0x2000', '0x0'],
        ['IO_PAGE_FAULT', '0x1000', '0x0'],
      ]);
      expect(s[11]!.result).toBe('0x40000010');
    });
  }

  it('prints each step and the domain table', () => {
    const r = genpt(['run', '-'], JSON.stringify({ machine: 'amd-iommu', name: 'dma', steps: STEPS }));
    expect(r.status, r.stderr).toBe(0);
    const out = r.stdout;
    expect(out).toMatch(/^genpt run: dma: AMD IOMMU model, v1 domain \d+ \(amdv1 table, top level 2\), device 0000:00:02\.0, 12 steps$/m);
    expect(out).toMatch(/^dma read 0x1000-0x1007 \(8B\) by 0000:00:02\.0: ok, read deadbeef00112233$/m);
    expect(out).toMatch(/^dma write 0x1000-0x1001 \(2B\) by 0000:00:02\.0: IO_PAGE_FAULT at 0x1000 \(flags 0x30, domain \d+\)$/m);
    expect(out).toMatch(
      /^dma read 0x1ffc-0x2003 \(8B\) by 0000:00:02\.0: IO_PAGE_FAULT at 0x2000 \(flags 0x0, domain \d+\) after 4 bytes \(00000000\)$/m,
    );
    expect(out).toMatch(/^events: 3$/m);
    expect(out).toMatch(/^ {2}Event logged \[IO_PAGE_FAULT device=0000:00:02\.0 domain=0x[0-9a-f]{4} address=0x1000 flags=0x0030\]$/m);
    expect(out).toMatch(/^amdv1 table \(amd-iommu v1\): .*1 leaf entry mapping 2M$/m);
    expect(out).toMatch(/\[1\] +0x200000-0x3fffff +-> 0x40000000-0x401fffff +2M +rw/);
  });

  it('a device with no domain attached is blocked', () => {
    const r = genpt(
      ['run', '-', '--json'],
      JSON.stringify({ machine: 'amd-iommu', steps: [{ op: 'dma', device: 0x20, iova: 0, len: 4 }, { op: 'events' }] }),
    );
    expect(r.status, r.stderr).toBe(0);
    const steps = (JSON.parse(r.stdout) as { steps: Step[] }).steps;
    expect(steps[0]!.result).toMatchObject({ ok: false, bytes: 0 });
  });

  it('refuses what does not apply to the model', () => {
    const bad = (script: unknown, args: string[], re: RegExp) => {
      const r = genpt(['run', '-', ...args], JSON.stringify(script));
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toMatch(re);
    };
    bad(
      { machine: 'amd-iommu', steps: [{ op: 'set_dirty', iova: 0 }] },
      [],
      /EINVAL: .*op "set_dirty" is not one of map, unmap, iova_to_phys, dump, dma, mem_write, mem_read, events/,
    );
    bad({ machine: 'amd-iommu', format: 'vtdss', steps: [] }, [], /EINVAL: .*drives amdv1 \(v1\) or x86_64 \(v2\) tables, not "vtdss"/);
    bad({ machine: 'amd-iommu', config: 'host-l6', steps: [] }, [], /EINVAL: .*has no config/);
    bad({ machine: 'amd-iommu', steps: [] }, ['--config', 'host-l6'], /EINVAL: --config does not apply/);
    bad({ machine: 'amd-iommu', steps: [] }, ['--image', '/tmp/x.bin'], /EINVAL: --image is for table-only scripts/);
    bad({ machine: 'vax', steps: [] }, [], /EINVAL: .*machine "vax" is not "amd-iommu"/);
    bad({ machine: 'amd-iommu', steps: [{ op: 'dma', iova: 0, write: true }] }, [], /EINVAL: .*data must be a string of hex bytes/);
    bad({ machine: 'amd-iommu', steps: [{ op: 'dma', iova: 0, len: 0 }] }, [], /EINVAL: .*len must be 1\.\.1 MiB/);
    bad({ machine: 'amd-iommu', steps: [{ op: 'dma', iova: 0, len: 4, device: 0x10000 }] }, [], /EINVAL: .*device must be a DeviceID/);
    bad({ machine: 'amd-iommu', steps: [{ op: 'mem_read', paddr: '0xfffffffffffff', len: 16 }] }, [], /ERANGE: .*below 2\^52/);
    expect(genpt(['dump', '--script', '-'], JSON.stringify({ machine: 'amd-iommu', steps: [] }))).toMatchObject({
      status: 2,
      stderr: expect.stringContaining('runs with genpt run'),
    });
  });
});
