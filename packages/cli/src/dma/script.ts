/**
 * Scripts for the AMD IOMMU model ("machine": "amd-iommu"): the table ops
 * go through the driver (iommu_map / iommu_unmap with their IOTLB
 * invalidations) on a domain attached to a device, and a device's DMA goes
 * through the hardware model's walker, IOTLB and event log.
 *
 *   { "machine": "amd-iommu", "format": "amdv1" | "x86_64", "device": 16,
 *     "steps": [ map, unmap, iova_to_phys, dump, dma, mem_write, mem_read, events ] }
 */
import { CliError } from '../cli-error.js';
import { parseStep, u64Field, type OpStep } from '../script.js';

export type DmaStep =
  | Extract<OpStep, { op: 'map' | 'unmap' | 'iova_to_phys' | 'dump' }>
  | { op: 'dma'; device: number; iova: string; len: number; write: boolean; data?: string }
  | { op: 'mem_write'; paddr: string; data: string }
  | { op: 'mem_read'; paddr: string; len: number }
  | { op: 'events' };

export interface DmaScript {
  name?: string;
  /** amdv1 for a v1 (host) domain, x86_64 for a v2 (guest) domain. */
  format: 'amdv1' | 'x86_64';
  /** DeviceID of the device the domain is attached to. */
  device: number;
  steps: DmaStep[];
}

export const DMA_OPS = ['map', 'unmap', 'iova_to_phys', 'dump', 'dma', 'mem_write', 'mem_read', 'events'] as const;

/** Bytes as lowercase hex without a prefix ("deadbeef"). */
export function bytesHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function hexBytes(v: unknown, where: string): string {
  if (typeof v !== 'string' || !/^(0x)?([0-9a-fA-F]{2})+$/.test(v)) {
    throw new CliError(`${where}: data must be a string of hex bytes, e.g. "deadbeef"`);
  }
  return v.replace(/^0x/, '').toLowerCase();
}

function length(v: unknown, where: string): number {
  const n = typeof v === 'string' && /^(0x[0-9a-fA-F]+|\d+)$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0 || n > 1 << 20) throw new CliError(`${where}: len must be 1..1 MiB`);
  return n;
}

/** A physical range of system memory: below 2^52, the AMD IOMMU's widest OA. */
function memRange(v: unknown, len: number, where: string): string {
  const paddr = u64Field(v, where, 'paddr');
  if (BigInt(paddr) + BigInt(len) > 1n << 52n) throw new CliError(`${where}: [paddr, paddr + len) must lie below 2^52`, 'ERANGE');
  return paddr;
}

function deviceId(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffff)
    throw new CliError(`${where}: device must be a DeviceID 0..0xffff`);
  return v;
}

function only(s: Record<string, unknown>, where: string, fields: string[]): void {
  const extra = Object.keys(s).filter((k) => k !== 'op' && k !== 'result' && !fields.includes(k));
  if (extra.length) throw new CliError(`${where}: ${String(s.op)} has no field ${extra.map((k) => `"${k}"`).join(', ')}`);
}

function parseDmaStep(raw: unknown, where: string, device: number): DmaStep {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new CliError(`${where}: a step must be an object`);
  const s = raw as Record<string, unknown>;
  switch (s.op) {
    case 'map':
    case 'unmap':
    case 'iova_to_phys':
    case 'dump':
      return parseStep(s, where) as DmaStep;
    case 'dma': {
      only(s, where, ['device', 'iova', 'len', 'write', 'data']);
      const write = s.write ?? false;
      if (typeof write !== 'boolean') throw new CliError(`${where}: write must be true or false`);
      const step: DmaStep = {
        op: 'dma',
        device: s.device === undefined ? device : deviceId(s.device, where),
        iova: u64Field(s.iova, where, 'iova'),
        len: 0,
        write,
      };
      if (write) {
        step.data = hexBytes(s.data, where);
        step.len = s.len === undefined ? step.data.length / 2 : length(s.len, where);
        if (step.len !== step.data.length / 2)
          throw new CliError(`${where}: len ${step.len} is not the data's ${step.data.length / 2} bytes`);
      } else {
        if (s.data !== undefined) throw new CliError(`${where}: a DMA read takes len, not data`);
        step.len = length(s.len, where);
      }
      return step;
    }
    case 'mem_write': {
      only(s, where, ['paddr', 'data']);
      const data = hexBytes(s.data, where);
      return { op: 'mem_write', paddr: memRange(s.paddr, data.length / 2, where), data };
    }
    case 'mem_read': {
      only(s, where, ['paddr', 'len']);
      const len = length(s.len, where);
      return { op: 'mem_read', paddr: memRange(s.paddr, len, where), len };
    }
    case 'events':
      only(s, where, []);
      return { op: 'events' };
    default:
      throw new CliError(`${where}: op ${JSON.stringify(s.op)} is not one of ${DMA_OPS.join(', ')} (amd-iommu scripts)`);
  }
}

/** A parsed script object with "machine": "amd-iommu". */
export function dmaScriptFrom(obj: Record<string, unknown> & { steps: unknown[] }, source: string, formatFlag?: string): DmaScript {
  if (obj.machine !== 'amd-iommu') throw new CliError(`${source}: machine ${JSON.stringify(obj.machine)} is not "amd-iommu"`);
  if (obj.config !== undefined) throw new CliError(`${source}: an amd-iommu script has no config: the driver configures its domains`);
  const format = formatFlag ?? obj.format ?? 'amdv1';
  if (format !== 'amdv1' && format !== 'x86_64') {
    throw new CliError(`${source}: the AMD IOMMU drives amdv1 (v1) or x86_64 (v2) tables, not ${JSON.stringify(format)}`);
  }
  const device = obj.device === undefined ? 0x10 : deviceId(obj.device, source);
  const script: DmaScript = { format, device, steps: obj.steps.map((s, i) => parseDmaStep(s, `${source} step ${i}`, device)) };
  if (typeof obj.name === 'string') script.name = obj.name;
  return script;
}
