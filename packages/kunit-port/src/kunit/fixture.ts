/**
 * The kunit fixture (kunit_iommu.h pt_kunit_priv_init): a table built from
 * one of the format's kunit configs with every other supported feature
 * turned on, as a CONFIG_DEBUG_GENERIC_PT kernel builds it, plus the derived
 * values the tests use.
 */
import {
  ffs64,
  hiOfBig,
  loOfBig,
  ptSupportedFeatures,
  u64Log2,
  type TableMemory,
  ptTableMemoryFor,
  type AnyPtFormat,
  type PtCommon,
  type PtIommuCfg,
} from '@genpt/pt-core';
import { type IommuIotlbGather, PtIommu, PtSpinLock, putPagesList, type IommuDevice, type PtIommuOptions } from '@genpt/iommu-ops';

/** What a format package hands the suites. */
export interface KunitFormat<Cfg extends PtIommuCfg = PtIommuCfg> {
  format: AnyPtFormat;
  /** The format's kunit_fmt_cfgs. */
  cfgs: readonly Cfg[];
  /** KUNIT_FMT_FEATURES: the feature bits the cfgs control. */
  fmtFeatures: number;
  /**
   * With dirty tracking, writable leaves start dirty and read-only ones
   * cannot be dirtied (ARMv8 DBM: a map sets DBM with AP/S2AP already
   * writable, so the hardware never needs to dirty them): the model expects
   * both.
   */
  dirtyFromMap?: boolean;
}

/**
 * The table keeps dirty state: the format has the dirty ops and the cfg
 * turned them on (pt_dirty_supported; ARMv8 without DBM has the ops, but
 * nothing ever gets dirty and set_dirty is EAGAIN).
 */
export function tracksDirty(t: PtIommu): boolean {
  return t.hasDirtyTracking && t.fmt.dirtySupported(t.common);
}

/** A DMA device for incoherent walkers that only counts what it is asked to do. */
export class CountingIommuDevice implements IommuDevice {
  started = 0;
  stopped = 0;
  flushes = 0;

  startIncoherent(): number {
    this.started++;
    return 0;
  }

  stopIncoherent(): void {
    this.stopped++;
  }

  flushIncoherent(): void {
    this.flushes++;
  }
}

export class KunitPriv {
  readonly table: PtIommu;
  readonly common: PtCommon;
  readonly mem: TableMemory;
  readonly cfg: PtIommuCfg;
  readonly pgsizeBitmap: bigint;
  readonly smallestPgszLg2: number;
  readonly smallestPgsz: bigint;
  readonly largestPgszLg2: number;
  readonly testOa: bigint;
  readonly safePgsizeBitmap: bigint;
  readonly topLock = new PtSpinLock();

  constructor(
    kf: KunitFormat,
    cfgIndex: number,
    extra: Pick<PtIommuOptions, 'dirtyWholeContig' | 'strict' | 'domainOps' | 'hitless' | 'reclaim'> = {},
  ) {
    const fmt = kf.format;
    const base = kf.cfgs[cfgIndex]!;
    // The cfg controls its own features; every other supported one is on.
    const cfg: PtIommuCfg = {
      ...base,
      features: (base.features | (ptSupportedFeatures(fmt, true) & ~kf.fmtFeatures)) >>> 0,
    };
    if (!cfg.hwMaxVaszLg2) cfg.hwMaxVaszLg2 = fmt.maxVaAddressLg2;
    if (!cfg.hwMaxOaszLg2) cfg.hwMaxOaszLg2 = fmt.maxOutputAddressLg2;
    this.cfg = cfg;
    this.mem = ptTableMemoryFor(fmt);
    this.table = PtIommu.init(fmt, cfg, {
      debug: true,
      checked: true,
      mem: this.mem,
      driverOps: { changeTop: () => {}, getTopLock: () => this.topLock },
      domainOps: { iotlbSync: (_d, g: IommuIotlbGather) => putPagesList(this.mem, g.freelist) },
      iommuDevice: new CountingIommuDevice(),
      ...extra,
    });
    this.common = this.table.common;
    this.pgsizeBitmap = this.table.getInfo().pgsizeBitmap;
    const hi = hiOfBig(this.pgsizeBitmap);
    const lo = loOfBig(this.pgsizeBitmap);
    this.smallestPgszLg2 = ffs64(hi, lo);
    this.smallestPgsz = 1n << BigInt(this.smallestPgszLg2);
    this.largestPgszLg2 = u64Log2(hi, lo);
    this.testOa = 0x74a71445deadbeefn & ((1n << BigInt(this.common.maxOaszLg2)) - 1n);
    this.safePgsizeBitmap = this.pgsizeBitmap & ((1n << BigInt(this.common.maxVaszLg2 - 1)) - 1n);
  }
}

/** kunit's parameter description for config n, e.g. "amdv1_cfg_0". */
export function cfgName(kf: KunitFormat, n: number): string {
  return `${kf.format.name}_cfg_${n}`;
}
