/**
 * The IOMMU algorithms compiled once per format (the kernel builds
 * iommu_pt.h once per format): every template specialised for `fmt` and
 * wired together. Cached for the format object's lifetime.
 */
import * as core from '@genpt/pt-core';
import { entryOpsLib, ptEntryOpsTemplate, specialize, type AnyPtFormat } from '@genpt/pt-core';
import { opsLib } from './ops-lib.js';
import { collectTemplate } from './template/collect.js';
import { mapTemplate } from './template/map.js';
import { queryTemplate } from './template/query.js';
import { unmapTemplate } from './template/unmap.js';

function build(fmt: AnyPtFormat) {
  const label = fmt.name;
  const e = specialize(ptEntryOpsTemplate, fmt, label)(fmt, entryOpsLib);
  const collect = specialize(collectTemplate, fmt, label)(fmt, core, e);
  const map = specialize(mapTemplate, fmt, label)(fmt, core, e, opsLib, collect);
  const unmap = specialize(unmapTemplate, fmt, label)(fmt, core, e, opsLib);
  const query = specialize(queryTemplate, fmt, label)(fmt, core, e, opsLib);
  return { e, collect, map, unmap, query };
}

export type IommuPtImpl = ReturnType<typeof build>;

const impls = new WeakMap<AnyPtFormat, IommuPtImpl>();

/** The algorithms specialised for `fmt`. */
export function iommuPtImpl(fmt: AnyPtFormat): IommuPtImpl {
  let impl = impls.get(fmt);
  if (impl === undefined) {
    core.validateFormat(fmt);
    impl = build(fmt);
    impls.set(fmt, impl);
  }
  return impl;
}
