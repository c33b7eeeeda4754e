/**
 * The kernel's own traces, for exactly the four table configurations the
 * AMD driver builds (amdv1 host-l6 = HATS 2; host-l4-nogaps = HATS 0 under
 * NpCache; x86_64 amdv2-4; amdv2-5-nogaps = 5-level under NpCache), replayed
 * through a driver domain with a device attached:
 * - the domain's table is configured as the traces' (page sizes, features, aperture);
 * - every op gives the kernel's result; each change_top moves the device's DTE;
 * - every range iommupt asked the driver to sync (mid-op iotlb_sync steps and
 *   each unmap's gather) is covered by the INVALIDATE_IOMMU_PAGES the hardware
 *   executed, and nothing is sent for an empty gather;
 * - the device's DMA reaches each mapping's last byte, and faults after unmap.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isPtError } from '@genpt/pt-core';
import { goldenDir } from '@genpt/golden';
import { DevTableEntry, getDte256, IOMMU_HWPT_ALLOC_PASID, type HwCommand } from '../dist/index.js';
import { machine } from './helpers.js';

const GOLDEN = goldenDir;

interface Step {
  op: string;
  iova?: string;
  paddr?: string;
  len?: string;
  prot?: number;
  topLevel?: number;
  start?: string;
  end?: string;
  result?: {
    err?: number | string;
    mapped?: string;
    unmapped?: string;
    gather?: { start: string; end: string };
  } & Record<string, unknown>;
}

interface Trace {
  init: { domainPgsizeBitmap: string; features: string[]; apertureStart: string; apertureEnd: string; topLevel: number };
  steps: Step[];
}

const CONFIGS = [
  { file: 'amdv1/host-l6', opts: { features: { hats: 2 } }, flags: 0, npCache: false },
  { file: 'amdv1/host-l4-nogaps', opts: { features: { hats: 0, npCache: true } }, flags: 0, npCache: true },
  { file: 'x86_64/amdv2-4', opts: {}, flags: IOMMU_HWPT_ALLOC_PASID, npCache: false },
  {
    file: 'x86_64/amdv2-5-nogaps',
    opts: { features: { gats: 1, npCache: true }, driver: { la57: true } },
    flags: IOMMU_HWPT_ALLOC_PASID,
    npCache: true,
  },
] as const;

const SCENARIOS = ['basic', 'each-pgsize', 'top-growth', 'errors', 'prot', 'random-1', 'random-2'];

const M64 = (1n << 64n) - 1n;

/** How the API returns a u64: a number when safe, else a bigint. */
function apiValue(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

/** The smallest naturally aligned block (page or more) holding [a, b], or everything past bit 51. */
function aligned(a: bigint, b: bigint): [bigint, bigint] {
  if ((a ^ b) >> 52n !== 0n) return [0n, M64];
  let lg2 = 12n;
  while (a >> lg2 !== b >> lg2) lg2++;
  return [(a >> lg2) << lg2, ((a >> lg2) << lg2) + (1n << lg2) - 1n];
}

/** The page-invalidation blocks in `cmds` cover [a, b]; without NpCache as one minimal block. */
function expectCovered(cmds: HwCommand[], a: bigint, b: bigint, npCache: boolean, what: string): void {
  const blocks = cmds.filter((c) => c.name === 'INVALIDATE_IOMMU_PAGES').map((c) => [c.first!, c.last!] as const);
  if (!npCache) expect(blocks, what).toContainEqual(aligned(a, b));
  let at = a;
  for (const [f, l] of blocks) if (f <= at && l >= at) at = l === M64 ? b + 1n : l + 1n;
  // NpCache pieces come in address order; every byte of the range is in one of them.
  expect(at > b, `${what}: [0x${a.toString(16)}, 0x${b.toString(16)}] covered`).toBe(true);
}

function replay(cfg: (typeof CONFIGS)[number], scenario: string): void {
  const trace = JSON.parse(readFileSync(path.join(GOLDEN, `${cfg.file}--${scenario}.json`), 'utf8')) as Trace;
  const s = machine({ ...cfg.opts, driver: { ...('driver' in cfg.opts ? cfg.opts.driver : {}), debug: true } });
  const dev = s.driver.probeDevice(0, 0x10);
  const domain = s.driver.domainAllocPaging(dev, cfg.flags);
  domain.attachDev(dev);
  const iommu = s.driver.iommus[0]!;
  const v1 = domain.pdMode === 'v1';

  // The driver configured the table as the kernel's trace was.
  expect(domain.pgsizeBitmap).toBe(BigInt(trace.init.domainPgsizeBitmap));
  expect(domain.table.featureNames()).toEqual(trace.init.features);
  expect(BigInt(domain.domain.geometry.apertureEnd)).toBe(BigInt(trace.init.apertureEnd));

  let syncs: Array<[bigint, bigint]> = [];
  let newMode = 0;
  for (const [i, step] of trace.steps.entries()) {
    const where = `${cfg.file}--${scenario} step ${i} ${step.op}`;
    const mark = s.hw.commandLog.length;
    const r = step.result!;
    switch (step.op) {
      case 'iotlb_sync':
        syncs.push([BigInt(step.start!), BigInt(step.end!)]);
        continue;
      case 'change_top':
        newMode = step.topLevel! + 1;
        continue;
      case 'map': {
        const iova = BigInt(step.iova!);
        const len = BigInt(step.len!);
        const paddr = BigInt(step.paddr!);
        let err: string | number = 0;
        let mapped = len;
        try {
          // iommu_map's call into the table; the core's rollback is not in the traces.
          domain.table.mapRange(iova, paddr, len, step.prot!);
          domain.iotlbSyncMap(iova, len);
        } catch (e) {
          if (!isPtError(e)) throw e;
          err = e.code;
          mapped = BigInt(e.mapped ?? 0);
        }
        expect({ err, mapped }, where).toEqual({ err: r.err, mapped: BigInt(r.mapped!) });
        if (err === 0) {
          const last = iova + len - 1n;
          const write = (step.prot! & 1) === 0;
          expect(s.hw.translateAccess(0x10, last, write), where).toEqual({ ok: true, oa: apiValue(paddr + len - 1n) });
        }
        break;
      }
      case 'unmap': {
        const iova = BigInt(step.iova!);
        const unmapped = BigInt(domain.unmap(iova, BigInt(step.len!)));
        expect(unmapped, where).toBe(BigInt(r.unmapped!));
        const g = r.gather!;
        const [a, b] = [BigInt(g.start), BigInt(g.end)];
        const cmds = s.hw.commandLog.slice(mark);
        if (a < b) expectCovered(cmds, a, b, cfg.npCache, where);
        else
          expect(
            cmds.filter((c) => c.name === 'INVALIDATE_IOMMU_PAGES'),
            where,
          ).toEqual([]);
        if (unmapped !== 0n) expect(s.hw.translateAccess(0x10, iova, false).ok, where).toBe(false);
        break;
      }
      case 'iova_to_phys':
        expect(BigInt(domain.iovaToPhys(BigInt(step.iova!))), where).toBe(BigInt(step.result as unknown as string));
        break;
      default:
        continue; // dump, deinit
    }
    // Mid-op syncs iommupt asked for were carried out by this op's commands.
    for (const [a, b] of syncs) expectCovered(s.hw.commandLog.slice(mark), a, b, cfg.npCache, `${where} (iotlb_sync)`);
    syncs = [];
    if (newMode !== 0) {
      expect(v1).toBe(true);
      const d0 = getDte256(iommu, 0x10, new DevTableEntry()).data(0);
      expect(Number((d0 >> 9n) & 7n), where).toBe(newMode);
      newMode = 0;
    }
  }
  expect(s.hw.staleHits).toEqual([]);
  s.driver.blockDevice(dev);
  domain.free();
  expect(s.tables.pagesInUse).toBe(iommu.structurePages);
}

describe('golden traces through the AMD driver', () => {
  for (const cfg of CONFIGS) {
    describe(cfg.file, () => {
      for (const scenario of SCENARIOS) it(scenario, () => replay(cfg, scenario));
    });
  }
});
