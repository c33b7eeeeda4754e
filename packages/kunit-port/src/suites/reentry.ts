/**
 * Callbacks that call back into the table: a dirty bitmap, change_top and
 * iotlb_sync are the caller's code, and may call any op on the same table or
 * throw. Each op owns its walk state, so a read-only op from a callback
 * cannot disturb the walk that called it; an op that changes the table gets
 * EBUSY while another runs; a throwing callback leaves nothing allocated.
 */
import { isPtError, ptTopRange, u64ToBigInt, type U64 } from '@genpt/pt-core';
import { IommuDirtyBitmap, IommuIotlbGather, IovaRangeRecorder, PtIommu, PtSpinLock, type IovaBitmap } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, tracksDirty, type KunitFormat } from '../kunit/fixture.js';
import { oaInto } from './window.js';

const RW = 3;

/** A bitmap that records like IovaRangeRecorder and runs `also` on every report. */
class CallingBitmap implements IovaBitmap {
  readonly ranges: Array<[U64, U64]> = [];
  private readonly rec = new IovaRangeRecorder();

  constructor(private readonly also: () => void) {}

  set(iovaHi: number, iovaLo: number, lenHi: number, lenLo: number): void {
    this.rec.set(iovaHi, iovaLo, lenHi, lenLo);
    this.ranges.push(this.rec.ranges.at(-1)!);
    this.also();
  }
}

function lowBase(t: PtIommu): bigint {
  const r = ptTopRange(t.common);
  return u64ToBigInt(r.vaHi, r.vaLo);
}

/** The cfg's table keeps dirty state (see tracksDirty). */
function cfgTracksDirty(kf: KunitFormat, n: number): boolean {
  const priv = new KunitPriv(kf, n);
  const on = tracksDirty(priv.table);
  priv.table.deinit();
  return on;
}

export function describeCallbackReentry(kf: KunitFormat): void {
  describe(`${kf.format.name} callbacks that re-enter the table`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it.runIf(kf.format.hasWriteDirty && kf.format.hasMakeWriteDirty)(
          'a dirty bitmap calling iovaToPhys and setDirty gets the same report and gather as one that does not',
          (ctx) => {
            if (!cfgTracksDirty(kf, n)) ctx.skip('the cfg tracks no dirty state');
            const run = (reenter: boolean) => {
              const priv = new KunitPriv(kf, n);
              const t = priv.table;
              const pg = priv.smallestPgsz;
              const base = lowBase(t) + 0x1000000n;
              const far = base + 0x6fff000n - (0x6fff000n % pg);
              // Four dirty pages, and one more page far away the callback looks at.
              t.mapRange(base, oaInto(t, 33), 4n * pg, RW);
              t.mapRange(far, oaInto(t, 34), pg, RW);
              for (let i = 0n; i < 4n; i++) t.setDirty(base + i * pg);
              const bitmap = new CallingBitmap(() => {
                if (!reenter) return;
                expect(BigInt(t.iovaToPhys(far))).toBe(oaInto(t, 34));
                t.setDirty(far);
              });
              const dirty = new IommuDirtyBitmap(bitmap);
              t.readAndClearDirty(base, 4n * pg, 0, dirty);
              const out = { ranges: bitmap.ranges.map(([a, l]) => [BigInt(a), BigInt(l)]), gather: dirty.gather.toJSON() };
              t.deinit();
              return out;
            };
            const plain = run(false);
            expect(plain.ranges.length).toBeGreaterThan(0);
            expect(run(true)).toEqual(plain);
          },
        );

        it.runIf(kf.format.hasWriteDirty && kf.format.hasMakeWriteDirty)(
          'a dirty bitmap calling map, unmap or readAndClearDirty gets EBUSY and the walk goes on',
          (ctx) => {
            if (!cfgTracksDirty(kf, n)) ctx.skip('the cfg tracks no dirty state');
            const priv = new KunitPriv(kf, n);
            const t = priv.table;
            const pg = priv.smallestPgsz;
            const base = lowBase(t) + 0x2000000n;
            t.mapRange(base, oaInto(t, 33), 2n * pg, RW);
            const codes: string[] = [];
            const bitmap = new CallingBitmap(() => {
              for (const op of [
                () => t.mapRange(base + 16n * pg, oaInto(t, 35), pg, RW),
                () => t.unmapRange(base, pg, new IommuIotlbGather()),
                () => t.readAndClearDirty(base, pg, 0, new IommuDirtyBitmap()),
              ]) {
                try {
                  op();
                  codes.push('ok');
                } catch (e) {
                  codes.push(isPtError(e) ? e.code : String(e));
                }
              }
            });
            const dirty = new IommuDirtyBitmap(bitmap);
            t.setDirty(base);
            t.setDirty(base + pg);
            t.readAndClearDirty(base, 2n * pg, 0, dirty);
            expect(bitmap.ranges.length).toBeGreaterThan(0);
            expect(new Set(codes)).toEqual(new Set(['EBUSY']));
            // Nothing was mapped by the refused call, and the table still works.
            expect(BigInt(t.iovaToPhys(base + 16n * pg))).toBe(0n);
            t.mapRange(base + 16n * pg, oaInto(t, 35), pg, RW);
            t.deinit();
            expect(priv.mem.pagesInUse).toBe(0);
          },
        );

        it('change_top calling iovaToPhys works, calling mapRange gets EBUSY; a throwing change_top leaks nothing', () => {
          const priv = new KunitPriv(kf, n);
          if (!priv.common.featDynamicTop) {
            priv.table.deinit();
            return;
          }
          const lock = new PtSpinLock();
          let mode: 'reenter' | 'throw' = 'reenter';
          const seen: string[] = [];
          const t = PtIommu.init(kf.format, priv.cfg, {
            debug: true,
            checked: true,
            mem: priv.mem,
            ...(priv.table.iommuDevice === undefined ? {} : { iommuDevice: priv.table.iommuDevice }),
            driverOps: {
              getTopLock: () => lock,
              changeTop: (tt) => {
                if (mode === 'throw') throw new Error('driver failed to repoint the hardware');
                seen.push(String(tt.iovaToPhys(lowBase(tt))));
                try {
                  tt.mapRange(lowBase(tt), 0, priv.smallestPgsz, RW);
                  seen.push('mapped');
                } catch (e) {
                  seen.push(isPtError(e) ? e.code : String(e));
                }
              },
            },
          });
          priv.table.deinit();
          const before = priv.mem.pagesInUse;
          const high = 1n << BigInt(Math.min(priv.common.maxVaszLg2 - 1, 50));
          mode = 'throw';
          expect(() => t.mapRange(high, oaInto(t, 36), priv.smallestPgsz, RW)).toThrow('driver failed');
          expect(priv.mem.pagesInUse).toBe(before);
          expect(lock.held).toBe(false);
          mode = 'reenter';
          t.mapRange(high, oaInto(t, 36), priv.smallestPgsz, RW);
          expect(seen.slice(-1)).toEqual(['EBUSY']);
          expect(BigInt(t.iovaToPhys(high))).toBe(oaInto(t, 36));
          t.deinit();
          expect(priv.mem.pagesInUse).toBe(0);
        });
      });
    });
  });
}
