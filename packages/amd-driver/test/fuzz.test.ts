/**
 * The driver's and the hardware model's public entry points given arbitrary
 * JS values (fast-check), mixed with plausible ones so calls also get deep:
 * every call succeeds or throws a PtError with an errno, never a TypeError or
 * RangeError; a failed call changes no table; at the end the domains free
 * every table page.
 */
import fc from 'fast-check';
import { argDescribe, isPtError } from '@genpt/pt-core';
import { dumpTable, IommuIotlbGather } from '@genpt/iommu-ops';
import { describe, expect, it } from 'vitest';
import { machine } from './helpers.js';

const RUNS = 150;

function value(): fc.Arbitrary<unknown> {
  const edges = [0, 1, -1, 0.5, NaN, Infinity, 2 ** 16, 2 ** 31, 2 ** 32 + 3, 2 ** 53, 1n << 64n, -1n, true, false];
  return fc.oneof(
    { weight: 3, arbitrary: fc.anything({ withBigInt: true, withTypedArray: true, withNullPrototype: true }) },
    { weight: 2, arbitrary: fc.constantFrom(...edges) },
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 }).map((k) => 0x100000 + k * 0x1000) },
    { weight: 2, arbitrary: fc.integer({ min: 0, max: 8 }).map((k) => k * 0x1000) },
    { weight: 2, arbitrary: fc.constantFrom(0x10, 0x11, 1, 2, 3) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 32 }) },
  );
}

type Call = { target: string; name: string; args: unknown[] };

const ENTRY_POINTS: Array<[target: string, name: string, arity: number]> = [
  ['hw', 'dma', 5],
  ['hw', 'translateAccess', 3],
  ['domain', 'map', 4],
  ['domain', 'unmap', 2],
  ['domain', 'mapPages', 5],
  ['domain', 'unmapPages', 4],
  ['domain', 'iovaToPhys', 1],
  ['domain', 'readAndClearDirty', 3],
  ['domain', 'setDirtyTracking', 1],
  ['domain', 'attachDev', 1],
  ['driver', 'probeDevice', 3],
  ['driver', 'domainAllocPaging', 2],
  ['driver', 'blockDevice', 1],
  ['mem', 'readBytes', 4],
  ['mem', 'writeBytes', 4],
];

const call: fc.Arbitrary<Call> = fc.constantFrom(...ENTRY_POINTS).chain(([target, name, arity]) =>
  fc
    .array(fc.oneof({ weight: 5, arbitrary: value() }, { weight: 1, arbitrary: fc.constantFrom('<dev>', '<gather>') }), {
      minLength: 0,
      maxLength: arity,
    })
    .map((args) => ({ target, name, args })),
);

describe('fuzz: arbitrary values at every driver and hardware entry point', () => {
  it(`${RUNS} sequences: success or a typed errno, tables unchanged on error, nothing leaked`, () => {
    let tried = 0;
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 10 }), (seq) => {
        const s = machine();
        const dev = s.driver.probeDevice(0, 0x10);
        const baseline = s.tables.pagesInUse;
        const domain = s.driver.domainAllocPaging(dev);
        const domains = [domain];
        domain.attachDev(dev);
        domain.map(0x100000, 0x80000000, 0x4000, 3);
        const targets: Record<string, object> = { hw: s.hw, domain, driver: s.driver, mem: s.mem };
        const snap = () => JSON.stringify(dumpTable(domain.table), (_k, v: unknown) => (typeof v === 'bigint' ? v.toString(16) : v));
        for (const c of seq) {
          tried++;
          const args = c.args.map((a) => (a === '<dev>' ? dev : a === '<gather>' ? new IommuIotlbGather() : a));
          const before = snap();
          try {
            const fn = (targets[c.target] as Record<string, (...a: unknown[]) => unknown>)[c.name]!;
            const r = fn.apply(targets[c.target], args);
            if (c.name === 'domainAllocPaging') domains.push(r as typeof domain);
          } catch (e) {
            if (!isPtError(e)) throw new Error(`${c.target}.${c.name}(${args.map(argDescribe).join(', ')}): ${(e as Error)?.stack}`);
            const partial = c.name.startsWith('map') && e.mapped !== undefined && BigInt(e.mapped) !== 0n;
            if (!partial) expect(snap(), `${c.target}.${c.name} ${e.code}`).toBe(before);
          }
        }
        // Whatever the sequence did, the tables are sound, and blocking every
        // device and freeing every domain returns every page the domains took.
        for (const d of domains) if (!d.isFreed) d.table.validate();
        for (const iommu of s.driver.iommus) for (const d of iommu.devData.values()) s.driver.blockDevice(d);
        for (const d of domains) d.free();
        expect(s.tables.pagesInUse).toBe(baseline);
      }),
      { numRuns: RUNS, seed: 0x616d64 },
    );
    expect(tried).toBeGreaterThan(RUNS);
  });
});
