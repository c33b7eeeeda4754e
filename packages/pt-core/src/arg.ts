/**
 * The argument checks every public entry point of every genpt package runs
 * before it touches any state: an integer of the kernel's width, only known
 * bits, an object of the expected class. A failed check is a PtError with the
 * kernel's errno (EINVAL unless said otherwise) whose message names the
 * function and the argument. 64-bit values go through u64Split (u64.ts),
 * which follows the same rules.
 */
import { PtError } from './errno.js';

/** A value as it reads in a message: numbers and bigints exactly, others by type. */
export function argDescribe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'function') return 'a function';
  const name = (v as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== 'Object' ? `a ${name}` : 'an object';
}

function fail(where: string, name: string, v: unknown, why: string): never {
  throw new PtError('EINVAL', `${where}: ${name} ${argDescribe(v)} ${why}`);
}

/** An integer number in [min, max] (C's fixed-width ints, or an index). */
export function argInt(v: unknown, min: number, max: number, where: string, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, name, v, `is not an integer ${min}..${max}`);
  return v;
}

/** A u32 (C's u32 / unsigned int). */
export function argU32(v: unknown, where: string, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(where, name, v, 'is not a u32');
  return v;
}

/** A u32 bitmap with no bits outside `known` (flags, prot, features). */
export function argBits(v: unknown, known: number, where: string, name: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0xffffffff) fail(where, name, v, 'is not a u32 bitmap');
  if ((v & ~known) !== 0) fail(where, name, v, `has bits outside 0x${(known >>> 0).toString(16)}`);
  return v;
}

/** A boolean (C's bool): only true or false, so 'x' or 1 is not silently truthy. */
export function argBool(v: unknown, where: string, name: string): boolean {
  if (typeof v !== 'boolean') fail(where, name, v, 'is not a boolean');
  return v;
}

/** A non-null object (an options bag, a config). */
export function argObject(v: unknown, where: string, name: string): object {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(where, name, v, 'is not an object');
  return v;
}

/** An instance of `cls` (a handle the package made: a device, a domain). */
export function argInstance<T>(v: unknown, cls: abstract new (...args: never[]) => T, where: string, name: string): T {
  if (!(v instanceof cls)) fail(where, name, v, `is not an instance of ${cls.name}`);
  return v;
}

/** A Uint8Array of at least `len` bytes (a DMA buffer). */
export function argBytes(v: unknown, len: number, where: string, name: string): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(where, name, v, 'is not a Uint8Array');
  if (v.length < len) fail(where, name, v, `holds ${v.length} bytes, fewer than ${len}`);
  return v;
}
