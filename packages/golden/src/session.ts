/**
 * Runs golden-schema steps against a genpt table: the TypeScript side of
 * the kernel harness that produced the traces. It records the driver
 * callbacks the table makes (change_top, iotlb_sync) and returns every
 * result in the schema's form, so a replay can compare it with the kernel's
 * and a user can produce traces of their own.
 */
import {
  type PtError,
  type TableMemory,
  featureBits,
  isPtError,
  u64Hex,
  type AnyPtFormat,
  type PtIommuCfg,
  type U64,
} from '@genpt/pt-core';
import {
  IommuDirtyBitmap,
  IommuIotlbGather,
  IovaRangeRecorder,
  PtIommu,
  PtSpinLock,
  dumpTable,
  putPagesList,
  type IommuDomain,
  type PtIommuOptions,
  type PtPreserveDescriptor,
} from '@genpt/iommu-ops';
import type { GoldenConfig, GoldenDump, GoldenErr, GoldenInit, GoldenStep } from './schema.js';

/** A format the replayer can run, under the name traces use for it. */
export interface GoldenFormat {
  name: string;
  format: AnyPtFormat;
  /** Build the format's config from a trace's; by default the generic fields plus startingLevel/topLevel. */
  makeCfg?(config: GoldenConfig): PtIommuCfg;
  /**
   * The traces of this name come from Linux's io-pgtable (golden-iopgtable):
   * init reports only err, pgsizeBitmap, ias and oas; unmap only `unmapped`
   * (io-pgtable has no gather); its TLB callbacks are steps of their own.
   */
  ioPgtable?: boolean;
  /**
   * A trace config in another shape (io-pgtable-arm-v7s's ias, oas and
   * quirks) as the generic one; by default the trace's config is generic.
   */
  configOf?(config: GoldenConfig): GoldenConfig;
  /** io-pgtable traces: what init reports beyond err, pgsizeBitmap, ias and oas (the v7s TTBR, TCR and remap registers). */
  ioPgtableInitExtra?(table: PtIommu): Record<string, unknown>;
}

/** "0x..." for any u64 value. */
export function hex(v: U64 | bigint): string {
  return '0x' + BigInt(v).toString(16);
}

function big(h: string): bigint {
  return BigInt(h);
}

function errOf(e: unknown): GoldenErr {
  if (isPtError(e)) return e.code;
  throw e;
}

/**
 * freedTablePages: the tables on the gather's free list, one per table
 * whatever its size (the kernel's list holds one entry per allocation: a
 * 16 KiB ARMv8 table counts once, as the armv8 traces record).
 */
function gatherPages(g: IommuIotlbGather): number {
  return g.freelist.length;
}

/** The trace config as the format's cfg: generic fields, featureBits, and the format's own fields (level, page-size bitmap, granule). */
export function defaultGoldenCfg(config: GoldenConfig): PtIommuCfg {
  const cfg: PtIommuCfg & { startingLevel?: number; topLevel?: number; pgsizeBitmap?: number; tgszLg2?: number } = {
    features: config.featureBits,
    hwMaxVaszLg2: config.hwMaxVaszLg2,
    hwMaxOaszLg2: config.hwMaxOaszLg2,
  };
  if (config.startingLevel !== undefined) cfg.startingLevel = config.startingLevel;
  if (config.topLevel !== undefined) cfg.topLevel = config.topLevel;
  if (config.cfgPgsizeBitmap !== undefined) cfg.pgsizeBitmap = config.cfgPgsizeBitmap;
  if (config.tgszLg2 !== undefined) cfg.tgszLg2 = config.tgszLg2;
  return cfg;
}

/** Canonical dump in the schema's form: T entries with their address field cleared. */
export function goldenDump(t: PtIommu): GoldenDump {
  const d = dumpTable(t);
  return {
    topLevel: d.topLevel,
    tables: d.tables.map((tb) => ({
      level: tb.level,
      path: tb.path,
      va: hex(tb.va),
      entries: tb.entries.map((en) => [en.index, hex(en.canonical), en.kind] as [number, string, 'L' | 'T' | 'E']),
    })),
  };
}

export class GoldenSession {
  /** The table the steps run on (after a restore step, the restored one). */
  get table(): PtIommu | null {
    return this.current;
  }
  readonly init: GoldenInit;
  private current: PtIommu | null;
  private readonly fmt: AnyPtFormat;
  private readonly lock = new PtSpinLock();
  /** Driver callbacks made by the op being run. */
  private events: GoldenStep[] = [];

  constructor(gf: GoldenFormat, config: GoldenConfig) {
    const fmt = gf.format;
    this.fmt = fmt;
    if (gf.configOf !== undefined) config = gf.configOf(config);
    const bits = featureBits(config.features, fmt.featureNames);
    if (bits !== config.featureBits) {
      throw new Error(`features ${config.features.join(',')} are bits ${bits}, the trace says ${config.featureBits}`);
    }
    const cfg = (gf.makeCfg ?? defaultGoldenCfg)(config);
    let table: PtIommu | null = null;
    let init: GoldenInit;
    try {
      table = PtIommu.init(fmt, cfg, this.tableOptions());
      const d = table.domain;
      init = {
        err: 0,
        topLevel: table.common.topLevel,
        pgsizeBitmap: hex(table.getInfo().pgsizeBitmap),
        domainPgsizeBitmap: hex(d.pgsizeBitmap),
        maxVaszLg2: table.common.maxVaszLg2,
        maxOaszLg2: table.common.maxOaszLg2,
        features: table.featureNames(),
        apertureStart: hex(d.geometry.apertureStart),
        apertureEnd: hex(d.geometry.apertureEnd),
      };
    } catch (e) {
      init = { err: errOf(e) };
    }
    this.current = table;
    this.init = init;
  }

  /** What the kernel's kunit fixture gives a table: debug and checked, the driver callbacks recorded. */
  private tableOptions(mem?: TableMemory): PtIommuOptions {
    const lock = this.lock;
    return {
      debug: true,
      checked: true,
      ...(mem === undefined ? {} : { mem }),
      driverOps: {
        changeTop: (_t, _pa, topLevel) => {
          if (!lock.held) throw new Error('change_top called without the top lock');
          this.events.push({ op: 'change_top', topLevel });
        },
        getTopLock: () => lock,
      },
      domainOps: {
        iotlbSync: (domain: IommuDomain, g: IommuIotlbGather) => {
          const t = domain.table;
          this.events.push({
            op: 'iotlb_sync',
            start: u64Hex(g.startHi, g.startLo),
            end: u64Hex(g.endHi, g.endLo),
            freedTablePages: gatherPages(g),
          });
          putPagesList(t.common.mem, g.freelist);
        },
      },
    };
  }

  /**
   * restore: adopt `descriptor`'s pages in `memory` (default: the current
   * table's, which is abandoned) as the session's table. The result as a
   * restore step reports it; on EINVAL the current table stays.
   */
  restore(descriptor: PtPreserveDescriptor, memory?: TableMemory): { result: { err: GoldenErr; tables: number }; reason: string } {
    const t = this.current;
    if (t === null) throw new Error('table failed to initialise');
    try {
      const mem = memory ?? t.common.mem;
      this.current = PtIommu.restore(this.fmt, descriptor, mem, this.tableOptions(mem));
      return { result: { err: 0, tables: descriptor.tables.length }, reason: '' };
    } catch (e) {
      if (!isPtError(e)) throw e;
      return { result: { err: errOf(e), tables: 0 }, reason: e.message };
    }
  }

  /** Run one op step; returns its result and the driver callbacks it caused, in order. */
  run(step: GoldenStep): { result: unknown; events: GoldenStep[] } {
    const t = this.table;
    if (t === null) throw new Error('table failed to initialise');
    this.events = [];
    const result = this.exec(t, step);
    return { result, events: this.events };
  }

  private exec(t: PtIommu, step: GoldenStep): unknown {
    switch (step.op) {
      case 'map': {
        let err: GoldenErr = 0;
        let mapped: U64;
        try {
          mapped = t.mapRange(big(step.iova), big(step.paddr), big(step.len), step.prot);
        } catch (e) {
          err = errOf(e);
          mapped = (e as PtError).mapped ?? 0;
        }
        return { err, mapped: hex(mapped) };
      }
      case 'unmap': {
        const g = new IommuIotlbGather();
        const unmapped = t.unmapRange(big(step.iova), big(step.len), g);
        const result = {
          unmapped: hex(unmapped),
          gather: { start: u64Hex(g.startHi, g.startLo), end: u64Hex(g.endHi, g.endLo), freedTablePages: gatherPages(g) },
        };
        // The harness flushes outside the op: free the pages quietly.
        putPagesList(t.common.mem, g.freelist);
        return result;
      }
      case 'cut':
      case 'split':
      case 'collapse': {
        const g = new IommuIotlbGather();
        let err: GoldenErr = 0;
        try {
          if (step.op === 'cut') t.cutMapping(big(step.iova), g);
          else if (step.op === 'split') t.splitRange(big(step.iova), big(step.len), step.maxPgszLg2, g);
          else t.collapseRange(big(step.iova), big(step.len), g);
        } catch (e) {
          err = errOf(e);
        }
        const result = {
          err,
          gather: { start: u64Hex(g.startHi, g.startLo), end: u64Hex(g.endHi, g.endLo), freedTablePages: gatherPages(g) },
        };
        putPagesList(t.common.mem, g.freelist);
        return result;
      }
      case 'iova_to_phys': {
        try {
          return hex(t.iovaToPhys(big(step.iova)));
        } catch (e) {
          // The kernel returns the negative errno cast to an address.
          const errno = isPtError(e) ? e.errno : 0;
          return hex((1n << 64n) - BigInt(errno));
        }
      }
      case 'set_dirty': {
        try {
          t.setDirty(big(step.iova));
          return { err: 0 };
        } catch (e) {
          return { err: errOf(e) };
        }
      }
      case 'read_and_clear_dirty': {
        const rec = new IovaRangeRecorder();
        const dirty = new IommuDirtyBitmap(rec, new IommuIotlbGather());
        let err: GoldenErr = 0;
        try {
          t.readAndClearDirty(big(step.iova), big(step.size), step.flags, dirty);
        } catch (e) {
          err = errOf(e);
        }
        const g = dirty.gather;
        return {
          dirty: rec.ranges.map(([a, l]) => [hex(a), hex(l)]),
          err,
          gather: { start: u64Hex(g.startHi, g.startLo), end: u64Hex(g.endHi, g.endLo) },
        };
      }
      case 'preserve': {
        try {
          return { err: 0, descriptor: t.preserve() };
        } catch (e) {
          return { err: errOf(e) };
        }
      }
      case 'restore':
        return this.restore(step.descriptor).result;
      case 'dump':
        return goldenDump(t);
      case 'deinit':
        t.deinit();
        return { leakedPages: t.common.mem.pagesInUse };
      default:
        throw new Error(`step "${step.op}" is a driver callback, not an op`);
    }
  }
}
