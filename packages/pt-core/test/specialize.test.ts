import { afterEach, describe, expect, it } from 'vitest';
import {
  entryOpsLib,
  PT_ENTRY_OA,
  ptEntryOpsTemplate,
  ptInit,
  ptIterFirst,
  ptMakeRange,
  setSpecialization,
  specialize,
  specializationEnabled,
} from '../src/index.js';
import { makeToyTable, toy } from '../src/testing/toy-format.js';

function counterTemplate(start: number) {
  let n = start;
  return () => ++n;
}

describe('specialize', () => {
  afterEach(() => setSpecialization(true));

  it('compiles one fresh copy per key and caches it', () => {
    const a = {};
    const b = {};
    const ca = specialize(counterTemplate, a, 'a');
    const cb = specialize(counterTemplate, b, 'b');
    expect(ca).not.toBe(counterTemplate);
    expect(ca).not.toBe(cb);
    expect(specialize(counterTemplate, a, 'a')).toBe(ca);
    expect(ca(10)()).toBe(11);
    expect(cb(0)()).toBe(1);
    expect(ca.toString()).toBe(counterTemplate.toString());
  });

  it('can be switched off to share the original (for debugging)', () => {
    setSpecialization(false);
    expect(specializationEnabled()).toBe(false);
    expect(specialize(counterTemplate, {}, 'x')).toBe(counterTemplate);
  });

  it('refuses templates that are not plain functions', () => {
    class NotAFunction {}
    expect(() => specialize(NotAFunction as unknown as () => void, {}, 'c')).toThrow(TypeError);
  });

  it('gives a per-format copy of the entry primitives that behaves like the shared one', () => {
    const ops = specialize(ptEntryOpsTemplate, toy, 'toy')(toy, entryOpsLib);
    const common = makeToyTable({ topLevel: 2, vaszLg2: 39 });
    const range = ptMakeRange(common, 0, 0x3000, 0, 0x3fff);
    const pts = ptInit(range, 2, common.topTable);
    ptIterFirst(pts);
    expect(ops.ptIterLoad(pts)).toBe(true);
    expect(pts.type).not.toBe(PT_ENTRY_OA);
    expect(ops.ptLoadSingleEntry(pts)).toBe(0);
  });
});
