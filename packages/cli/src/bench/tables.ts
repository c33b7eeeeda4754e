/**
 * The tables the kernel-style rows measure: every format the CLI knows, each
 * in the golden config the kernel figures were taken with (or the format's
 * own representative ones), built as the golden replay builds them, all in
 * one process. One table memory per format, made once: its base PA is the
 * format's (DART's pointers hold 36 address bits).
 */
import { resolveConfig } from '../configs.js';
import { formats } from '../formats.js';
import { defaultGoldenCfg } from '@genpt/golden';
import { ptTableMemoryFor, type TableMemory } from '@genpt/pt-core';
import { PtIommu, PtSpinLock } from '@genpt/iommu-ops';

export interface BenchTable {
  /** The golden format name. */
  format: string;
  /** The golden config name. */
  config: string;
}

/**
 * Linux 7.0's formats in the configs ../shared/kernel-bench timed them with,
 * then the mock and the ARM formats (no kernel figures: Linux drives ARM
 * through io-pgtable, and the mock only in the selftest).
 */
export const BENCH_TABLES: readonly BenchTable[] = [
  { format: 'amdv1', config: 'host-l6' },
  { format: 'x86_64', config: 'amdv2-4' },
  { format: 'vtdss', config: 'vtd-48' },
  { format: 'riscv64', config: 'sv48' },
  { format: 'mock', config: 'selftest' },
  { format: 'armv8', config: 's1-4k-dbm' },
  { format: 'armv8', config: 's1-16k-dbm' },
  { format: 'armv8', config: 's1-64k-dbm' },
  { format: 'armv8', config: 's2-4k-48' },
  { format: 'dart', config: 'v1-4k' },
  { format: 'dart', config: 'v2-16k' },
  { format: 'armv7s', config: 'v7s-32' },
];

const lock = new PtSpinLock();
const memories = new Map<string, TableMemory>();

/** A fresh table of `bt` (production build: not checked, no debug). */
export function makeBenchTable(bt: BenchTable): PtIommu {
  const gf = formats.get(bt.format);
  if (gf === undefined) throw new Error(`bench: no format ${bt.format}`);
  const { config } = resolveConfig(gf, bt.config);
  let mem = memories.get(bt.format);
  if (mem === undefined) {
    mem = ptTableMemoryFor(gf.format, { maxBytes: 2 ** 28 });
    memories.set(bt.format, mem);
  }
  return PtIommu.init(gf.format, (gf.makeCfg ?? defaultGoldenCfg)(config), {
    driverOps: { changeTop: () => {}, getTopLock: () => lock },
    mem,
  });
}

/**
 * Where a row's range goes: at 4 GiB, or the VA's upper half when it is
 * smaller, or from 0 when only the whole VA holds it (DART v1's 30 bits).
 */
export function benchIova(t: PtIommu, len: number): number {
  const vasz = t.common.maxVaszLg2;
  const base = Math.min(2 ** 32, 2 ** (vasz - 1));
  if (base + len <= 2 ** vasz) return base;
  if (len <= 2 ** vasz) return 0;
  throw new Error(`bench: ${len} bytes do not fit a ${vasz}-bit VA`);
}

/** The smallest page size of the table, lg2. */
export function smallestPageLg2(t: PtIommu): number {
  const bm = t.getInfo().pgsizeBitmap;
  let lg2 = 0;
  while (((BigInt(bm) >> BigInt(lg2)) & 1n) === 0n) lg2++;
  return lg2;
}

/** Whether the table has pages of 2^lg2. */
export function hasPageSize(t: PtIommu, lg2: number): boolean {
  return ((BigInt(t.getInfo().pgsizeBitmap) >> BigInt(lg2)) & 1n) === 1n;
}
