/**
 * A machine to run the driver on: table memory, the physical memory around
 * it, one or more AMD IOMMUs, and the driver initialised on them.
 */
import { TableMemory, type TableMemoryOptions } from '@genpt/pt-core';
import { AmdIommuDriver, type AmdIommuDriverOptions } from './driver/driver.js';
import { AmdIommuHw, type AmdIommuHwFeatures, type AmdIommuHwOptions } from './hw/iommu-hw.js';
import { SystemMemory } from './hw/system-memory.js';

export interface AmdIommuSystemOptions {
  /** How many IOMMUs. Default 1. */
  iommus?: number;
  /** What each IOMMU implements. */
  features?: AmdIommuHwFeatures;
  /** Hardware model options (stale checking, command log size). */
  hw?: Omit<AmdIommuHwOptions, 'features'>;
  /** Driver boot options. */
  driver?: AmdIommuDriverOptions;
  tableMemory?: TableMemoryOptions;
}

export interface AmdIommuSystem {
  tables: TableMemory;
  mem: SystemMemory;
  /** The IOMMUs (hws[0] is also `hw`). */
  hws: AmdIommuHw[];
  hw: AmdIommuHw;
  driver: AmdIommuDriver;
}

export function createAmdIommuSystem(opts: AmdIommuSystemOptions = {}): AmdIommuSystem {
  const tables = new TableMemory(opts.tableMemory ?? {});
  const mem = new SystemMemory(tables);
  const n = opts.iommus ?? 1;
  const hws: AmdIommuHw[] = [];
  for (let i = 0; i < n; i++) hws.push(new AmdIommuHw(mem, { ...(opts.hw ?? {}), features: opts.features ?? {} }));
  const driver = AmdIommuDriver.init(mem, hws, opts.driver ?? {});
  return { tables, mem, hws, hw: hws[0]!, driver };
}
