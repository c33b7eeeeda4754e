import { describe, expect, it } from 'vitest';
import {
  bit,
  Errno,
  errnoName,
  featureBits,
  featureNames,
  isPtError,
  PT_FEAT_DYNAMIC_TOP,
  PT_FEAT_FLUSH_RANGE,
  PT_FEAT_FMT_START,
  PT_FEAT_SIGN_EXTEND,
  PtCommon,
  PtError,
  TableMemory,
} from '../src/index.js';
import { toy } from '../src/testing/toy-format.js';

describe('errors', () => {
  it('carry the kernel errno name and number, and partial progress', () => {
    const e = new PtError('EADDRINUSE', 'mapped over a leaf', 0x1000);
    expect(e).toBeInstanceOf(Error);
    expect([e.code, e.errno, e.mapped, e.name]).toEqual(['EADDRINUSE', 98, 0x1000, 'PtError']);
    expect(e.message).toBe('EADDRINUSE: mapped over a leaf');
    expect(PtError.fromErrno(-Errno.ENXIO).code).toBe('ENXIO');
    expect(errnoName(22)).toBe('EINVAL');
    expect(() => errnoName(4242)).toThrow(RangeError);
    expect(isPtError(e, 'EADDRINUSE')).toBe(true);
    expect(isPtError(e, 'EINVAL')).toBe(false);
    expect(isPtError(new Error('x'))).toBe(false);
  });

  it('number every name as Linux (asm-generic) does, each number once', () => {
    expect(Errno).toEqual({
      EPERM: 1,
      ENOENT: 2,
      EIO: 5,
      ENXIO: 6,
      E2BIG: 7,
      EBADF: 9,
      EAGAIN: 11,
      ENOMEM: 12,
      EFAULT: 14,
      EBUSY: 16,
      EEXIST: 17,
      ENODEV: 19,
      EINVAL: 22,
      ENOSPC: 28,
      ERANGE: 34,
      EDEADLK: 35,
      EBADE: 52,
      EOVERFLOW: 75,
      EBADFD: 77,
      EMSGSIZE: 90,
      EPROTOTYPE: 91,
      EOPNOTSUPP: 95,
      EADDRINUSE: 98,
    });
    for (const [name, n] of Object.entries(Errno)) expect(errnoName(-n)).toBe(name);
  });
});

describe('features', () => {
  it('number the generic bits as Linux 7.0 does', () => {
    expect(
      featureBits(
        ['DYNAMIC_TOP', 'FLUSH_RANGE', 'AMDV1_ENCRYPT_TABLES', 'AMDV1_FORCE_COHERENCE'],
        ['AMDV1_ENCRYPT_TABLES', 'AMDV1_FORCE_COHERENCE'],
      ),
    ).toBe(212);
    expect(featureNames(212, ['AMDV1_ENCRYPT_TABLES', 'AMDV1_FORCE_COHERENCE'])).toEqual([
      'DYNAMIC_TOP',
      'FLUSH_RANGE',
      'AMDV1_ENCRYPT_TABLES',
      'AMDV1_FORCE_COHERENCE',
    ]);
    expect(featureBits(['PT_FEAT_SIGN_EXTEND'], [])).toBe(bit(PT_FEAT_SIGN_EXTEND));
    expect(() => featureBits(['NOPE'], [])).toThrow(/^EINVAL: unknown feature NOPE/);
    expect(PT_FEAT_FMT_START).toBe(6);
  });

  it('test as the kernel does: force-enabled, else supported and requested', () => {
    const prod = new PtCommon(toy, new TableMemory());
    prod.features = bit(PT_FEAT_DYNAMIC_TOP) | bit(PT_FEAT_FLUSH_RANGE);
    expect(prod.feature(PT_FEAT_DYNAMIC_TOP)).toBe(true);
    expect(prod.feature(PT_FEAT_FLUSH_RANGE)).toBe(false); // not supported by the toy format
    const dbg = new PtCommon(toy, new TableMemory(), { debug: true });
    dbg.features = bit(PT_FEAT_FLUSH_RANGE);
    expect(dbg.feature(PT_FEAT_FLUSH_RANGE)).toBe(true); // debug builds support every bit
    // ...except the ones that cannot coexist with what the format supports
    expect(dbg.supportedFeatures & bit(PT_FEAT_SIGN_EXTEND)).not.toBe(0);
    expect(dbg.supportedFeatures & bit(PT_FEAT_DYNAMIC_TOP)).toBe(0);
  });
});
