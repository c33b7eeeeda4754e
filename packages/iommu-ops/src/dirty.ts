/**
 * struct iommu_dirty_bitmap: where read_and_clear_dirty reports dirty IOVA
 * and the gather it adds cleared ranges to (the caller flushes it).
 */
import { u64Value, type U64 } from '@genpt/pt-core';
import { IommuIotlbGather } from './gather.js';

/** The kernel's iova_bitmap as the page table sees it: mark [iova, iova + len). */
export interface IovaBitmap {
  set(iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void;
}

/** An IovaBitmap that records the ranges in order (what the golden traces list). */
export class IovaRangeRecorder implements IovaBitmap {
  readonly ranges: Array<[U64, U64]> = [];

  set(iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void {
    this.ranges.push([u64Value(iovaHi, iovaLo), u64Value(lenHi, lenLo)]);
  }
}

export class IommuDirtyBitmap {
  bitmap: IovaBitmap | null;
  gather: IommuIotlbGather;

  constructor(bitmap: IovaBitmap | null = new IovaRangeRecorder(), gather = new IommuIotlbGather()) {
    this.bitmap = bitmap;
    this.gather = gather;
  }
}
