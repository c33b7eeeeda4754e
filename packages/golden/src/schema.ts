/** The genpt-golden/1 trace schema (see golden/README.md). Every u64 is a lowercase hex string. */

import type { PtPreserveDescriptor } from '@genpt/iommu-ops';

export type Hex = string;
/** 0 or an errno name. */
export type GoldenErr = 0 | string;

export interface GoldenConfig {
  features: string[];
  featureBits: number;
  hwMaxVaszLg2: number;
  hwMaxOaszLg2: number;
  startingLevel?: number;
  topLevel?: number;
  /** dart: the page sizes the hardware uses (the cfg's pgsizeBitmap). */
  cfgPgsizeBitmap?: number;
  /** armv8: the translation granule, 12, 14 or 16. */
  tgszLg2?: number;
}

export interface GoldenInit {
  err: GoldenErr;
  topLevel?: number;
  pgsizeBitmap?: Hex;
  domainPgsizeBitmap?: Hex;
  maxVaszLg2?: number;
  maxOaszLg2?: number;
  features?: string[];
  apertureStart?: Hex;
  apertureEnd?: Hex;
}

export interface GoldenGather {
  start: Hex;
  end: Hex;
  freedTablePages?: number;
}

export interface GoldenDumpTable {
  level: number;
  path: number[];
  va: Hex;
  entries: Array<[number, Hex, 'L' | 'T' | 'E']>;
}

export interface GoldenDump {
  topLevel: number;
  tables: GoldenDumpTable[];
}

export type GoldenStep =
  | { op: 'map'; iova: Hex; paddr: Hex; len: Hex; prot: number; result?: { err: GoldenErr; mapped: Hex } }
  | { op: 'unmap'; iova: Hex; len: Hex; result?: { unmapped: Hex; gather: GoldenGather } }
  | { op: 'iova_to_phys'; iova: Hex; result?: Hex }
  | { op: 'set_dirty'; iova: Hex; result?: { err: GoldenErr } }
  | {
      op: 'read_and_clear_dirty';
      iova: Hex;
      size: Hex;
      flags: number;
      result?: { dirty: Array<[Hex, Hex]>; err: GoldenErr; gather: GoldenGather };
    }
  /** genpt's hitless ops (the development line's cut_mapping, and split/collapse); no kernel trace has them yet. */
  | { op: 'cut'; iova: Hex; result?: { err: GoldenErr; gather: GoldenGather } }
  | { op: 'split'; iova: Hex; len: Hex; maxPgszLg2: number; result?: { err: GoldenErr; gather: GoldenGather } }
  | { op: 'collapse'; iova: Hex; len: Hex; result?: { err: GoldenErr; gather: GoldenGather } }
  /**
   * genpt's KHO ops: preserve's result carries the descriptor; restore adopts
   * a descriptor's pages in the table's own memory (the table it replaces is
   * abandoned, as across a kexec) and becomes the table later steps use.
   */
  | { op: 'preserve'; result?: { err: GoldenErr; descriptor?: PtPreserveDescriptor } }
  | { op: 'restore'; descriptor: PtPreserveDescriptor; result?: { err: GoldenErr; tables: number } }
  | { op: 'change_top'; topLevel: number }
  | { op: 'iotlb_sync'; start: Hex; end: Hex; freedTablePages: number }
  | { op: 'dump'; result?: GoldenDump }
  | { op: 'deinit'; result?: { leakedPages: number } };

export interface GoldenTrace {
  schema: 'genpt-golden/1';
  source?: string;
  format: string;
  name: string;
  config: GoldenConfig;
  init: GoldenInit;
  steps: GoldenStep[];
}

/** Steps the table reports through driver callbacks rather than performs. */
export function isEventStep(s: GoldenStep): s is Extract<GoldenStep, { op: 'change_top' | 'iotlb_sync' }> {
  return s.op === 'change_top' || s.op === 'iotlb_sync';
}
