/**
 * The `strict` init option: the two inputs Linux 7.0 accepts and the
 * quirk-* golden traces pin (a map across the canonical hole, a map whose
 * last OA passes the maximum OA) are ERANGE before anything is written;
 * without it they map as the kernel does. iova_to_phys of an IOVA outside a
 * strict table is 0.
 */
import { PT_FEAT_SIGN_EXTEND } from '@genpt/pt-core';
import type { PtIommu } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { snapshot, typedOutcome } from './outcome.js';
import { vaInto } from './window.js';

const RW = 3;

const code = (fn: () => unknown): string => typedOutcome(fn).code;

export function describeStrict(kf: KunitFormat): void {
  describe(`${kf.format.name} strict tables`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        const free = (t: PtIommu) => vaInto(t, 30);

        it('paddr + len past the maximum OA: mapped by default (the kernel checks only paddr), ERANGE when strict', () => {
          for (const strict of [false, true]) {
            const priv = new KunitPriv(kf, n, { strict });
            const t = priv.table;
            const pg = priv.smallestPgsz;
            const oasz = BigInt(t.common.maxOaszLg2);
            const lastPage = (1n << oasz) - pg;
            const va = free(t);
            // The last page of the OA space is fine either way.
            expect(code(() => t.mapRange(va, lastPage, pg, RW))).toBe('ok');
            const before = snapshot(t);
            const got = code(() => t.mapRange(va + 4n * pg, lastPage, 2n * pg, RW));
            if (strict) {
              expect(got).toBe('ERANGE');
              expect(snapshot(t)).toBe(before);
            } else {
              expect(got).toBe('ok');
            }
            t.deinit();
            expect(priv.mem.pagesInUse).toBe(0);
          }
        });

        it('a range across the canonical hole: mapped by default, ERANGE when strict; iova_to_phys of the hole is 0 when strict', (ctx) => {
          const probe = new KunitPriv(kf, n);
          const sext = probe.common.feature(PT_FEAT_SIGN_EXTEND);
          probe.table.deinit();
          if (!sext) ctx.skip('not a sign-extended table');
          for (const strict of [false, true]) {
            const priv = new KunitPriv(kf, n, { strict });
            const t = priv.table;
            const pg = priv.smallestPgsz;
            const hole = 1n << BigInt(t.common.maxVaszLg2 - 1);
            const before = snapshot(t);
            const got = code(() => t.mapRange(hole - pg, 1n << 33n, 2n * pg, RW));
            if (strict) {
              expect(got).toBe('ERANGE');
              expect(snapshot(t)).toBe(before);
              expect(BigInt(t.iovaToPhys(hole))).toBe(0n);
              // Either side of the hole on its own still maps.
              expect(code(() => t.mapRange(hole - pg, 1n << 33n, pg, RW))).toBe('ok');
              expect(code(() => t.mapRange((1n << 64n) - (1n << 30n), 1n << 34n, pg, RW))).toBe('ok');
            } else {
              expect(got).toBe('ok');
              expect(code(() => t.iovaToPhys(hole))).toBe('ERANGE');
            }
            t.deinit();
            expect(priv.mem.pagesInUse).toBe(0);
          }
        });
      });
    });
  });
}
