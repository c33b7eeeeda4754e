/**
 * The IOMMU algorithms bound to one format, the way the kernel compiles
 * iommu_pt.h once per format: the format's slot (pt-core's iteration
 * primitives and this package's ops, each copied per slot at build time),
 * bound once and cached for the format object's lifetime.
 */
import { validateFormat, type AnyPtFormat } from '@genpt/pt-core';
import { ptFormatSlot, ptIterSlots } from '@genpt/pt-core/internal';
import type { PtOpWalks } from './ops/index.js';
import { ptOpsSlots } from './slots.js';

const impls = new WeakMap<AnyPtFormat, PtOpWalks>();

/** The number of per-format slots both packages ship (0 in an unbuilt source tree). */
const copies = Math.min(ptIterSlots.length, ptOpsSlots.length) - 1;

/** The slot `fmt` runs in (0 is the shared original). */
export function iommuPtSlot(fmt: AnyPtFormat): number {
  return ptFormatSlot(fmt, copies);
}

/** Every op's walk, bound to `fmt`. */
export function iommuPtImpl(fmt: AnyPtFormat): PtOpWalks {
  let impl = impls.get(fmt);
  if (impl === undefined) {
    validateFormat(fmt);
    const slot = iommuPtSlot(fmt);
    impl = ptOpsSlots[slot]!.buildWalks(fmt, ptIterSlots[slot]!.ptEntryOps(fmt));
    impls.set(fmt, impl);
  }
  return impl;
}
