/**
 * Run an amd-iommu script on @genpt/amd-driver's model: a machine with one
 * AMD IOMMU, the driver initialised on it (v1 or v2 default tables), one
 * device probed and attached to a paging domain. Table ops go through the
 * driver as the iommu core calls it; DMA goes through the hardware.
 */
import { createAmdIommuSystem, pciName, type AmdIommuSystem, type IommuDevData, type ProtectionDomain } from '@genpt/amd-driver';
import { hiOfBig, isPtError, loOfBig, u64Value } from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';
import { CliError } from '../cli-error.js';
import { hx } from '../dump/units.js';
import { bytesHex, type DmaScript, type DmaStep } from './script.js';

export interface DmaRecord {
  index: number;
  step: DmaStep;
  result: unknown;
}

export interface DmaResultJson {
  ok: boolean;
  bytes: number;
  data?: string;
  fault?: { code: number; name: string; deviceId: number; domainId: number; address: string; flags: string };
}

/** The event log codes the hardware model writes. */
const FAULT_NAMES: Record<number, string> = { 1: 'ILLEGAL_DEV_TABLE_ENTRY', 2: 'IO_PAGE_FAULT' };

export class AmdDmaRunner {
  readonly script: DmaScript;
  readonly sys: AmdIommuSystem;
  readonly dev: IommuDevData;
  readonly domain: ProtectionDomain;
  readonly records: DmaRecord[] = [];

  constructor(script: DmaScript) {
    this.script = script;
    const pgtable = script.format === 'amdv1' ? 'v1' : 'v2';
    try {
      // A small device table (DeviceIDs up to 0xff unless the script needs more) keeps start-up quick.
      const lastBdf = Math.max(0xff, script.device, ...script.steps.map((s) => (s.op === 'dma' ? s.device : 0)));
      this.sys = createAmdIommuSystem({ driver: { pgtable, lastBdf } });
      this.dev = this.sys.driver.probeDevice(0, script.device);
      this.domain = this.sys.driver.domainAllocPaging(this.dev);
      this.domain.attachDev(this.dev);
    } catch (e) {
      if (isPtError(e)) throw new CliError(`the AMD IOMMU model did not set up: ${e.message}`, e.code, 1);
      throw e;
    }
  }

  get table(): PtIommu {
    return this.domain.table;
  }

  /** "v1 domain 1 (amdv1 table)" */
  describe(): string {
    return `${this.domain.pdMode} domain ${this.domain.id} (${this.script.format} table, top level ${this.table.common.topLevel}), device ${pciName(this.dev.devid)}`;
  }

  run(step: DmaStep): DmaRecord {
    const index = this.records.length;
    let result: unknown;
    try {
      result = this.exec(step);
    } catch (e) {
      if (isPtError(e)) throw new CliError(`step ${index} (${step.op}): ${e.message.replace(/^\w+: /, '')}`, e.code, 1);
      throw e;
    }
    const rec = { index, step, result };
    this.records.push(rec);
    return rec;
  }

  private exec(step: DmaStep): unknown {
    const d = this.domain;
    switch (step.op) {
      case 'map':
        try {
          // iommu_map(): the whole range or, after rolling back, nothing.
          d.map(BigInt(step.iova), BigInt(step.paddr), BigInt(step.len), step.prot);
          return { err: 0 };
        } catch (e) {
          if (isPtError(e)) return { err: e.code };
          throw e;
        }
      case 'unmap':
        return { unmapped: hx(BigInt(d.unmap(BigInt(step.iova), BigInt(step.len)))) };
      case 'iova_to_phys':
        try {
          return hx(BigInt(d.iovaToPhys(BigInt(step.iova))));
        } catch (e) {
          if (isPtError(e)) return e.code;
          throw e;
        }
      case 'dump':
        return { topLevel: this.table.common.topLevel };
      case 'dma': {
        const data = step.data === undefined ? undefined : Uint8Array.from(Buffer.from(step.data, 'hex'));
        const r = this.sys.hw.dma(step.device, u64(step.iova), step.len, step.write, data);
        const out: DmaResultJson = { ok: r.ok, bytes: r.bytes };
        if (!step.write && r.data !== undefined) out.data = bytesHex(r.data.subarray(0, r.bytes));
        if (r.fault) {
          const f = r.fault;
          out.fault = {
            code: f.code,
            name: FAULT_NAMES[f.code] ?? `event ${f.code}`,
            deviceId: f.deviceId,
            domainId: f.domainId,
            address: hx(BigInt(f.address)),
            flags: hx(f.flags),
          };
        }
        return out;
      }
      case 'mem_write':
        this.sys.mem.writeBytes(pa(step.paddr), Uint8Array.from(Buffer.from(step.data, 'hex')));
        return { ok: true };
      case 'mem_read':
        return bytesHex(this.sys.mem.readBytes(pa(step.paddr), step.len));
      case 'events':
        return this.sys.driver.iommus[0]!.pollEvents().map((e) => ({
          name: e.name,
          deviceId: e.deviceId,
          domainId: e.domainId,
          address: hx(BigInt(e.address)),
          flags: hx(e.flags),
          message: e.message,
        }));
    }
  }

  /** The run as JSON: every step with its result. */
  json(name: string): unknown {
    return {
      schema: 'genpt-amd-iommu-run/1',
      machine: 'amd-iommu',
      format: this.script.format,
      name,
      device: this.script.device,
      domain: { id: this.domain.id, pdMode: this.domain.pdMode },
      steps: this.records.map((r) => ({ ...r.step, result: r.result })),
    };
  }
}

function u64(h: string): number | bigint {
  const v = BigInt(h);
  return u64Value(hiOfBig(v), loOfBig(v));
}

/** A physical address of system memory (the parser keeps it below 2^52). */
function pa(h: string): number {
  return Number(BigInt(h));
}
