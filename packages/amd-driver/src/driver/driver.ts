/**
 * The AMD IOMMU driver's global state and its iommu_ops (amd_iommu_init,
 * probe_device, domain_alloc_paging_flags, the blocked domain): the feature
 * set common to all IOMMUs, the host/guest table levels it implies, the boot
 * options (amd_iommu=pgtbl_v1|pgtbl_v2|nohugepages|v2_pgsizes_only) and the
 * domain ID allocator.
 */
import { argInt, argObject, argU32, PtError, type TableMemory } from '@genpt/pt-core';
import type { SystemMemory } from '../hw/system-memory.js';
import { AmdIommu, type AmdIommuMmio } from './amd-iommu.js';
import { checkDevice, IommuDevData, type DeviceOptions } from './device.js';
import { DomainIds } from './domain-ids.js';
import { detachDevice } from './attach.js';
import { ProtectionDomain, type PdMode } from './domain.js';
import { devUpdateDte } from './dte.js';
import {
  AMD_IOMMU_PGSIZES,
  AMD_IOMMU_PGSIZES_4K,
  AMD_IOMMU_PGSIZES_V2,
  FEATURE_EPHSUP,
  FEATURE_GIOSUP,
  FEATURE_GT,
  FEATURE_HDSUP,
  FEATURE_PPR,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_NEST_PARENT,
  IOMMU_HWPT_ALLOC_PASID,
  PAGE_MODE_4_LEVEL,
  PAGE_MODE_5_LEVEL,
} from './types.js';

export interface AmdIommuDriverOptions {
  /** amd_iommu=pgtbl_v1 / pgtbl_v2: the table for domains allocated with no flags. Default 'v1'. */
  pgtable?: PdMode;
  /** amd_iommu=nohugepages ('4k') or v2_pgsizes_only ('v2'): narrow v1 page sizes. Default 'all'. */
  pgsizes?: 'all' | '4k' | 'v2';
  /** Highest DeviceID (sizes the device table). Default 0xffff. */
  lastBdf?: number;
  /** The CPU has 5-level paging (LA57): v2 tables get 5 levels if the IOMMU can walk them. Default false. */
  la57?: boolean;
  /** Build page tables as a CONFIG_DEBUG_GENERIC_PT kernel does (as the golden traces were made). Default false. */
  debug?: boolean;
}

export class AmdIommuDriver {
  readonly mem: SystemMemory;
  readonly tables: TableMemory;
  readonly iommus: AmdIommu[] = [];
  readonly pdomIds = new DomainIds();
  /** amd_iommu_efr: features every IOMMU has. */
  readonly efr: bigint;
  /** amd_iommu_hpt_level: host table levels (from EFR.HATS). */
  readonly hptLevel: number;
  /** amd_iommu_hatdis: no host translation. */
  readonly hatdis: boolean;
  /** amd_iommu_gpt_level: guest table levels. */
  readonly gptLevel: number;
  /** amd_iommu_np_cache: an IOMMU caches not-present entries (running under a hypervisor). */
  readonly npCache: boolean;
  /** amd_iommu_pgtable: the default table. */
  readonly pgtable: PdMode | 'none';
  /** amd_iommu_pgsize_bitmap */
  readonly pgsizeBitmap: bigint;
  /** amd_iommu_max_glx_val */
  readonly maxGlxVal: number;
  /** WARN_ON()s that fired. */
  readonly warnings: string[] = [];
  /** CONFIG_DEBUG_GENERIC_PT */
  readonly debug: boolean;
  private readonly la57: boolean;

  private constructor(mem: SystemMemory, mmios: readonly AmdIommuMmio[], opts: AmdIommuDriverOptions) {
    if (mmios.length === 0) throw new PtError('ENODEV', 'no IOMMU');
    this.mem = mem;
    this.tables = mem.tables;
    this.la57 = opts.la57 === true;
    this.debug = opts.debug === true;
    const lastBdf = opts.lastBdf ?? 0xffff;
    if (!Number.isInteger(lastBdf) || lastBdf < 0 || lastBdf > 0xffff) throw new PtError('EINVAL', `lastBdf ${lastBdf}`);
    mmios.forEach((m, i) => {
      this.iommus.push(new AmdIommu(i, m, mem, lastBdf));
    });

    let efr = this.iommus[0]!.efr;
    for (const iommu of this.iommus) efr &= iommu.efr;
    this.efr = efr;
    const hats = Number((efr >> 10n) & 3n);
    this.hatdis = hats === 3;
    this.hptLevel = this.hatdis ? 0 : hats + PAGE_MODE_4_LEVEL;
    this.gptLevel = opts.la57 === true && Number((efr >> 12n) & 3n) === 1 ? PAGE_MODE_5_LEVEL : PAGE_MODE_4_LEVEL;
    this.npCache = this.iommus.some((i) => i.npCache);
    this.maxGlxVal = this.checkFeature(FEATURE_GT) ? Math.min(...this.iommus.map((i) => i.glx)) : -1;
    let pgtable: PdMode | 'none' = opts.pgtable ?? 'v1';
    if (pgtable === 'v2' && !this.v2PgtblSupported()) pgtable = 'v1';
    if (this.hatdis) pgtable = this.v2PgtblSupported() ? 'v2' : 'none';
    this.pgtable = pgtable;
    const sizes = opts.pgsizes ?? 'all';
    this.pgsizeBitmap = sizes === '4k' ? AMD_IOMMU_PGSIZES_4K : sizes === 'v2' ? AMD_IOMMU_PGSIZES_V2 : AMD_IOMMU_PGSIZES;
  }

  /** amd_iommu_init(): take over the IOMMUs behind these register interfaces and enable them. */
  static init(mem: SystemMemory, mmios: readonly AmdIommuMmio[], opts: AmdIommuDriverOptions = {}): AmdIommuDriver {
    const driver = new AmdIommuDriver(mem, mmios, opts);
    for (const iommu of driver.iommus) iommu.init();
    return driver;
  }

  checkFeature(mask: bigint): boolean {
    return (this.efr & mask) !== 0n;
  }

  /** amd_iommu_v2_pgtbl_supported() */
  v2PgtblSupported(): boolean {
    return this.checkFeature(FEATURE_GIOSUP) && this.checkFeature(FEATURE_GT);
  }

  /** amd_iommu_gt_ppr_supported() */
  gtPprSupported(): boolean {
    return this.v2PgtblSupported() && this.checkFeature(FEATURE_PPR) && this.checkFeature(FEATURE_EPHSUP);
  }

  /** amd_iommu_pasid_supported(): the CPU's and the IOMMU's guest tables must have the same depth. */
  pasidSupported(): boolean {
    if (this.la57 && this.gptLevel !== PAGE_MODE_5_LEVEL) return false;
    return this.gtPprSupported();
  }

  /** amd_iommu_hd_support() */
  hdSupport(iommu: AmdIommu): boolean {
    return !this.hatdis && iommu.checkFeature(FEATURE_HDSUP);
  }

  warn(msg: string): void {
    this.warnings.push(msg);
  }

  /**
   * amd_iommu_probe_device(): the driver's record of the device with
   * DeviceID `devid` behind IOMMU `iommuIndex`. Its DMA stays blocked until
   * a domain is attached.
   */
  probeDevice(iommuIndex: number, devid: number, opts: DeviceOptions = {}): IommuDevData {
    argInt(iommuIndex, 0, 0xffff, 'probeDevice', 'iommuIndex');
    argObject(opts, 'probeDevice', 'opts');
    if (opts.aliases !== undefined && !Array.isArray(opts.aliases))
      throw new PtError('EINVAL', 'probeDevice: opts.aliases is not an array');
    const iommu = this.iommus[iommuIndex];
    if (iommu === undefined) throw new PtError('ENODEV', `no IOMMU ${iommuIndex}`);
    if (!Number.isInteger(devid) || devid < 0 || devid > iommu.lastBdf) throw new PtError('ENODEV', `device id ${devid}`);
    for (const alias of opts.aliases ?? []) {
      if (!Number.isInteger(alias) || alias < 0 || alias > iommu.lastBdf) throw new PtError('EINVAL', `alias ${alias}`);
    }
    const existing = iommu.devData.get(devid);
    if (existing !== undefined) return existing;
    if (this.pgtable === 'none') throw new PtError('ENODEV', 'DMA translation not supported by the IOMMU');
    const dev = new IommuDevData(iommu, devid, opts, this.gtPprSupported());
    if (this.pasidSupported() && dev.pasidSupported) dev.maxPasids = Math.min(iommu.maxPasids, opts.pasids ?? 0);
    iommu.devData.set(devid, dev);
    iommu.completionWait();
    return dev;
  }

  /**
   * amd_iommu_domain_alloc_paging_flags(): DIRTY_TRACKING / NEST_PARENT ->
   * v1; PASID -> v2; no flags -> the boot default, falling back to the
   * other. Throws EOPNOTSUPP otherwise, EINVAL-free like the kernel.
   */
  domainAllocPaging(dev: IommuDevData, flags = 0): ProtectionDomain {
    checkDevice(this.iommus, dev, 'domainAllocPaging');
    argU32(flags, 'domainAllocPaging', 'flags');
    const supported = IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID | IOMMU_HWPT_ALLOC_NEST_PARENT;
    if (!Number.isInteger(flags) || flags & ~supported) throw new PtError('EOPNOTSUPP', `domain flags 0x${flags.toString(16)}`);
    switch (flags) {
      case IOMMU_HWPT_ALLOC_DIRTY_TRACKING:
      case IOMMU_HWPT_ALLOC_NEST_PARENT:
      case IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_NEST_PARENT:
        if (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING && !this.hdSupport(dev.iommu)) break;
        // Nest parents need GCR3 table modes this model does not implement.
        if (flags & IOMMU_HWPT_ALLOC_NEST_PARENT) break;
        return this.allocPaging('v1', flags);
      case IOMMU_HWPT_ALLOC_PASID:
        if (!this.pasidSupported()) break;
        return this.allocPaging('v2', flags);
      case 0:
        if (this.pgtable === 'v1') return this.allocWithFallback('v1', 'v2');
        return this.allocWithFallback('v2', 'v1');
      default:
        break;
    }
    throw new PtError('EOPNOTSUPP', `no paging domain for flags 0x${flags.toString(16)}`);
  }

  private allocWithFallback(first: PdMode, second: PdMode): ProtectionDomain {
    try {
      return this.allocPaging(first, 0);
    } catch (e) {
      if (!(e instanceof PtError && e.code === 'EOPNOTSUPP')) throw e;
      return this.allocPaging(second, 0);
    }
  }

  /** amd_iommu_domain_alloc_paging_v1 / _v2 */
  private allocPaging(mode: PdMode, flags: number): ProtectionDomain {
    if (mode === 'v1' && this.hatdis) throw new PtError('EOPNOTSUPP', 'host translation is disabled');
    if (mode === 'v2' && !this.v2PgtblSupported()) throw new PtError('EOPNOTSUPP', 'no v2 page table support');
    const id = this.pdomIds.alloc();
    if (id <= 0) throw new PtError('ENOMEM', 'no free domain id');
    try {
      return new ProtectionDomain(this, id, mode, (flags & IOMMU_HWPT_ALLOC_DIRTY_TRACKING) !== 0);
    } catch (e) {
      this.pdomIds.free(id);
      throw e;
    }
  }

  /** The blocked domain's attach_dev: detach, then a DTE with only V set. */
  blockDevice(dev: IommuDevData): void {
    checkDevice(this.iommus, dev, 'blockDevice');
    if (dev.domain !== null) detachDevice(dev);
    devUpdateDte(dev, false);
  }
}
