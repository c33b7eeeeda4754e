/**
 * Allocation failure at every allocation point of a map (in the spirit of
 * iommufd_fail_nth): the map fails with ENOMEM, reports what it mapped, the
 * table stays consistent (exactly that much translates, nothing else), the
 * map can be finished afterwards, and tearing it down returns every page.
 */
import { isPtError, PT_FEAT_DYNAMIC_TOP, PT_FEAT_SIGN_EXTEND, ptTopRange, u64ToBigInt, type PtError } from '@genpt/pt-core';
import { dumpTable, iommuUnmap, type PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { oaInto, vaInto } from './window.js';

const RW = 3;

interface Scenario {
  name: string;
  /** Offset from the table's start and length, in smallest pages; OA = VA + 2^40 (or less: oaInto). */
  at: (pg: bigint, top: bigint, priv: KunitPriv) => { iova: bigint; len: bigint };
}

/** 2^lg2, or half a narrow table's VA width (fresh() maps at a quarter of it). */
const into = (priv: KunitPriv, lg2: number): bigint => 1n << BigInt(Math.min(lg2, priv.common.maxVaszLg2 - 1));

const scenarios: Scenario[] = [
  { name: 'one page far from anything mapped', at: (pg, top, priv) => ({ iova: top + into(priv, 36) + 5n * pg, len: pg }) },
  { name: 'a run across three lowest-level tables', at: (pg, top, priv) => ({ iova: top + into(priv, 33) - 3n * pg, len: 1030n * pg }) },
  {
    name: 'the top of the largest range the table can grow to',
    at: (pg, _top, priv) => {
      const c = priv.common;
      const r = ptTopRange(c);
      const span = c.feature(PT_FEAT_DYNAMIC_TOP) ? c.maxVaszLg2 : r.maxVaszLg2 - (c.feature(PT_FEAT_SIGN_EXTEND) ? 1 : 0);
      const last = u64ToBigInt(r.vaHi, r.vaLo) + (1n << BigInt(span)) - 1n;
      return { iova: last - 4n * pg + 1n, len: 4n * pg };
    },
  },
];

/** iova_to_phys, with an IOVA the (not yet grown) top cannot hold reading as unmapped. */
function translate(t: PtIommu, va: bigint): bigint {
  try {
    return BigInt(t.iovaToPhys(va));
  } catch (e) {
    if (isPtError(e, 'ERANGE')) return 0n;
    throw e;
  }
}

function fresh(kf: KunitFormat, n: number) {
  const priv = new KunitPriv(kf, n);
  const t = priv.table;
  const top = ptTopRange(t.common);
  const base = u64ToBigInt(top.vaHi, top.vaLo);
  // Something already mapped, so failures happen in a populated table.
  t.mapRange(vaInto(t, 32), oaInto(t, 40), priv.smallestPgsz, RW);
  return { priv, t, base };
}

export function describeIommuPtAllocFailure(kf: KunitFormat): void {
  describe(`${kf.format.name} allocation failure`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        for (const sc of scenarios) {
          it(`${sc.name}: ENOMEM at each allocation leaves a consistent table`, () => {
            // How many allocations the map makes when nothing fails.
            const probe = fresh(kf, n);
            const { iova, len } = sc.at(probe.priv.smallestPgsz, probe.base, probe.priv);
            const ob = oaInto(probe.t, 40);
            const oa = (iova & (ob - 1n)) + ob;
            const calls0 = probe.priv.mem.allocCalls;
            probe.t.mapRange(iova, oa, len, RW);
            const allocs = probe.priv.mem.allocCalls - calls0;
            probe.t.deinit();
            expect(allocs).toBeGreaterThan(0);

            for (let k = 1; k <= allocs; k++) {
              const { priv, t } = fresh(kf, n);
              const pg = priv.smallestPgsz;
              const before = dumpTable(t).tables.flatMap((tb) => tb.entries.filter((e) => e.kind === 'L')).length;
              priv.mem.failNthAlloc(k);
              let mapped = 0n;
              try {
                t.mapRange(iova, oa, len, RW);
                expect.unreachable(`allocation ${k} of ${allocs} failed but the map succeeded`);
              } catch (e) {
                if (!isPtError(e)) throw e;
                expect(e.code).toBe('ENOMEM');
                mapped = BigInt((e as PtError).mapped ?? 0);
              }
              expect(mapped % pg).toBe(0n);
              // Exactly the reported prefix translates.
              for (const off of [0n, mapped - pg, mapped, len - pg]) {
                if (off < 0n || off >= len) continue;
                expect(translate(t, iova + off), `offset 0x${off.toString(16)} after failure ${k}`).toBe(off < mapped ? oa + off : 0n);
              }
              // The table is walkable and holds no stray leaves.
              const leaves = dumpTable(t).tables.flatMap((tb) => tb.entries.filter((e) => e.kind === 'L')).length;
              if (mapped === 0n) expect(leaves).toBe(before);
              // Finishing the map works, and then it all comes apart cleanly.
              t.mapRange(iova + mapped, oa + mapped, len - mapped, RW);
              expect(translate(t, iova + len - pg)).toBe(oa + len - pg);
              expect(BigInt(iommuUnmap(t.domain, iova, len))).toBe(len);
              t.deinit();
              expect(priv.mem.pagesInUse, `pages leaked after failure ${k}`).toBe(0);
            }
          });
        }
      });
    });
  });
}
