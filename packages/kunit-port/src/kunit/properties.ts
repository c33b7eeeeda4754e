/**
 * Encode/decode round trips of a format, as fast-check properties: at every
 * level and every page size the level can encode, a leaf with a random OA,
 * permissions and (aligned) index decodes back to the same OA, size and
 * attributes; a table pointer with a random address decodes to that address.
 */
import fc from 'fast-check';
import {
  hiOfBig,
  loOfBig,
  PT_ENTRY_OA,
  PT_ENTRY_TABLE,
  PtRange,
  PtState,
  PtWriteAttrs,
  U64Pair,
  u64ToBigInt,
  type PtCommon,
} from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import { describeBulkOpProperties } from './bulk-properties.js';
import { cfgName, KunitPriv, type KunitFormat } from './fixture.js';

const pair = new U64Pair();

function bitsOf(common: PtCommon, pts: PtState): number[] {
  common.fmt.possibleSizes(pts, pair);
  const bm = pair.bigint();
  const out: number[] = [];
  for (let b = 0; b < 64; b++) if ((bm >> BigInt(b)) & 1n) out.push(b);
  return out;
}

/** A state on a fresh, zeroed 4 KiB table at `level`. */
function scratchState(common: PtCommon, level: number): PtState {
  const range = new PtRange(common);
  const pa = common.mem.alloc(12);
  return new PtState(range).init(range, level, pa);
}

export interface PropertyOptions {
  numRuns?: number;
}

export function describeFormatProperties(kf: KunitFormat, opts: PropertyOptions = {}): void {
  const numRuns = opts.numRuns ?? 40;
  describe(`${kf.format.name} encode/decode properties`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      const priv = new KunitPriv(kf, n);
      const common = priv.common;
      const fmt = common.fmt;
      const maxOa = common.maxOaszLg2;
      priv.table.deinit();

      describe(cfgName(kf, n), () => {
        // Every level the format has, not only those this config's table starts with.
        for (let level = 0; level <= fmt.maxTopLevel; level++) {
          const probe = scratchState(common, level);
          const sizes = fmt.canHaveLeaf(probe) ? bitsOf(common, probe) : [];
          const isz = common.itemLg2sz[level]!;
          const items = 2 ** Math.min(common.numItemsLg2[level]!, 9);

          for (const size of sizes) {
            it(`level ${level}: a 2^${size} leaf decodes to its OA, size and attributes`, () => {
              const contig = size - isz;
              const arbOa = fc.bigInt({ min: 0n, max: (1n << BigInt(maxOa)) - 1n }).map((v) => v & ~((1n << BigInt(size)) - 1n));
              const arbIndex = fc.integer({ min: 0, max: items / 2 ** contig - 1 }).map((i) => i * 2 ** contig);
              const arbProt = fc.integer({ min: 0, max: 63 });
              fc.assert(
                fc.property(arbOa, arbIndex, arbProt, (oa, index, prot) => {
                  const pts = scratchState(common, level);
                  const attrs = new PtWriteAttrs();
                  if (fmt.iommuSetProt(common, attrs, prot) !== 0) return;
                  pts.index = index;
                  fmt.installLeafEntry(pts, hiOfBig(oa), loOfBig(oa), size, attrs);
                  for (let i = index; i < index + 2 ** contig; i++) {
                    pts.index = i;
                    expect(fmt.loadEntryRaw(pts)).toBe(PT_ENTRY_OA);
                    fmt.entryOa(pts, pair);
                    expect(pair.bigint()).toBe(oa);
                    expect(fmt.entryNumContigLg2(pts) + isz).toBe(size);
                    const back = new PtWriteAttrs();
                    fmt.attrFromEntry(pts, back);
                    expect([back.descriptorHi, back.descriptorLo]).toEqual([attrs.descriptorHi, attrs.descriptorLo]);
                  }
                  if (index === 0) {
                    // pt_item_oa() (the kernel's default is only exact for an entry at index 0)
                    pts.index = 2 ** contig - 1;
                    fmt.loadEntryRaw(pts);
                    fmt.itemOa(pts, pair);
                    expect(pair.bigint()).toBe(oa + BigInt(2 ** contig - 1) * (1n << BigInt(isz)));
                  }
                  // Items outside the entry are untouched.
                  let others = 0;
                  for (let i = 0; i < items; i++) {
                    if (i >= index && i < index + 2 ** contig) continue;
                    others |= pts.itemLo(i) | pts.itemHi(i);
                  }
                  expect(others).toBe(0);
                  common.mem.free(pts.table);
                }),
                { numRuns },
              );
            });
          }

          if (level > 0) {
            it(`level ${level}: a table pointer decodes to its table address`, () => {
              const maxPa = Math.min(maxOa, fmt.tablePaLg2 ?? 52, 52);
              // Tables are aligned to their size (16 KiB with DART v2's granule).
              const align = BigInt(Math.max(12, common.tablememLg2sz));
              const arbPa = fc.bigInt({ min: 1n, max: (1n << (BigInt(maxPa) - align)) - 1n }).map((v) => Number(v << align));
              fc.assert(
                fc.property(arbPa, fc.integer({ min: 0, max: items - 1 }), (pa, index) => {
                  const pts = scratchState(common, level);
                  pts.index = index;
                  fmt.loadEntryRaw(pts);
                  expect(fmt.installTable(pts, pa, new PtWriteAttrs())).toBe(true);
                  expect(fmt.loadEntryRaw(pts)).toBe(PT_ENTRY_TABLE);
                  expect(fmt.tablePa(pts)).toBe(pa);
                  expect(u64ToBigInt(pts.entryHi, pts.entryLo)).not.toBe(0n);
                  common.mem.free(pts.table);
                }),
                { numRuns },
              );
            });
          }
          common.mem.free(probe.table);
          describeBulkOpProperties(common, level, numRuns);
        }
      });
    });
  });
}
