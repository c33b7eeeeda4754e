/** The shared helpers the per-format templates receive (templates cannot import). */
import { IommuIotlbGather, iommuIotlbGatherAddRange, iommuIotlbGatherInit } from './gather.js';
import {
  ALLOC_DEFER_COHERENT_FLUSH,
  ALLOC_NORMAL,
  flushWritesItem,
  flushWritesRange,
  freeTableIncoherent,
  gatherRangePages,
  iommuIotlbSync,
  makeRange,
  makeRangeNoCheck,
  putPagesList,
  stopIncoherentList,
  tableAllocChild,
  tableAllocTop,
} from './helpers.js';

export const opsLib = {
  ALLOC_DEFER_COHERENT_FLUSH,
  ALLOC_NORMAL,
  IommuIotlbGather,
  flushWritesItem,
  flushWritesRange,
  freeTableIncoherent,
  gatherRangePages,
  iommuIotlbGatherAddRange,
  iommuIotlbGatherInit,
  iommuIotlbSync,
  makeRange,
  makeRangeNoCheck,
  putPagesList,
  stopIncoherentList,
  tableAllocChild,
  tableAllocTop,
};

export type OpsLib = typeof opsLib;
