/**
 * Every public entry point of a table given arbitrary JS values (fast-check's
 * anything(), mixed with values near the edges of each argument's range and
 * plausible ones so calls also get deep): each call succeeds or throws a
 * PtError with an errno; a failed call leaves the dump as it was (a map that
 * fails part way may leave its `mapped` prefix, as the kernel does); at the
 * end every page is freed. Bounded: a fixed number of runs per config.
 */
import fc from 'fast-check';
import { argDescribe } from '@genpt/pt-core';
import { IommuDirtyBitmap, IommuIotlbGather } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { cfgName, KunitPriv, type KunitFormat } from '../kunit/fixture.js';
import { outcome, snapshot } from './outcome.js';
import { vaInto } from './window.js';

/** Calls tried per config (each run is a sequence of up to 12 calls). */
export const FUZZ_RUNS = 60;

/** Values an argument of any kind might be given by a hostile caller. */
function hostile(base: bigint, pg: bigint): fc.Arbitrary<unknown> {
  const edges = [0, 1, -1, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32, 2 ** 32 + 3, 2 ** 53, 2 ** 53 + 2, -0, 1n << 64n, -1n];
  return fc.oneof(
    {
      weight: 3,
      arbitrary: fc.anything({ withBigInt: true, withTypedArray: true, withMap: true, withSet: true, withNullPrototype: true }),
    },
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
    // Plausible: near the table's free space, page multiples, small prot and flag values.
    { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 64n }).map((k) => base + k * pg) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 64 }) },
    { weight: 2, arbitrary: fc.bigInt({ min: 0n, max: 8n }).map((k) => k * pg) },
  );
}

type Call = { name: string; args: unknown[] };

function calls(base: bigint, pg: bigint): fc.Arbitrary<Call> {
  const call =
    (name: string) =>
    (args: unknown[]): Call => ({ name, args });
  const v = hostile(base, pg);
  const gather = fc.oneof(fc.constant('gather'), v);
  const dirty = fc.oneof(fc.constant('dirty'), v);
  return fc.oneof(
    fc.tuple(v, v, v, v, v).map(call('mapRange')),
    fc.tuple(v, v, v, v, v, v).map(call('mapPages')),
    fc.tuple(v, v, gather).map(call('unmapRange')),
    fc.tuple(v, v, v, gather).map(call('unmapPages')),
    fc.tuple(v).map(call('iovaToPhys')),
    fc.tuple(v, v, v, dirty).map(call('readAndClearDirty')),
    fc.tuple(v).map(call('setDirty')),
    fc.constant<Call>({ name: 'validate', args: [] }),
  );
}

export function describeFuzz(kf: KunitFormat): void {
  describe(`${kf.format.name} fuzz: arbitrary values at every entry point`, () => {
    kf.cfgs.forEach((_cfg, n) => {
      describe(cfgName(kf, n), () => {
        it(`${FUZZ_RUNS} sequences of calls: success or a typed errno, state kept on error, nothing leaked`, () => {
          let tried = 0;
          const probe = new KunitPriv(kf, n);
          const base = vaInto(probe.table, 30);
          const pg = probe.smallestPgsz;
          probe.table.deinit();
          fc.assert(
            fc.property(fc.array(calls(base, pg), { minLength: 1, maxLength: 12 }), (seq) => {
              const priv = new KunitPriv(kf, n);
              const t = priv.table as unknown as Record<string, (...a: unknown[]) => unknown>;
              for (const c of seq) {
                tried++;
                const args = c.args.map((a) => (a === 'gather' ? new IommuIotlbGather() : a === 'dirty' ? new IommuDirtyBitmap() : a));
                const before = snapshot(priv.table);
                const r = outcome(() => t[c.name]!.apply(priv.table, args));
                if (r.code === 'untyped')
                  throw new Error(`${c.name}(${args.map(argDescribe).join(', ')}) threw ${(r.error as Error)?.stack ?? 'a non-Error'}`);
                const partial = c.name.startsWith('map') && r.mapped !== undefined && r.mapped !== 0n;
                if (r.code !== 'ok' && !partial) expect(snapshot(priv.table), `${c.name} ${r.code}`).toBe(before);
              }
              priv.table.validate();
              priv.table.deinit();
              expect(priv.mem.pagesInUse).toBe(0);
            }),
            { numRuns: FUZZ_RUNS, seed: 0x6e7074 + n },
          );
          expect(tried).toBeGreaterThan(FUZZ_RUNS);
        });
      });
    });
  });
}
