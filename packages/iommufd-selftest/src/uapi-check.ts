/**
 * The iommufd uAPI structs as the kernel reads them: every field is a
 * fixed-width integer (u16 / u32 / s32 ids, ops and flags; u64 lengths,
 * IOVAs, offsets and user pointers), a file descriptor or user memory. Each
 * ioctl of the model reads its arguments through its spec below at entry,
 * before it looks anything up or changes anything:
 *
 * - a value its C field could not hold (not an integer, negative, past the
 *   field's width, a bigint for a u32, a string, an object, undefined for a
 *   required field) is EINVAL, naming the call and the field. A u64 is a
 *   non-negative safe integer number or a bigint below 2^64 and is read as a
 *   bigint;
 * - the ioctl's own struct, or a user pointer, that cannot be one is EFAULT,
 *   as copy_from_user() fails on it;
 * - a file descriptor that is not an open file of the right kind is EBADF
 *   (or the kernel's errno for a file of another kind);
 * - flags the kernel checks first thing have their unknown bits refused with
 *   that ioctl's errno (EOPNOTSUPP for iommufd's, EINVAL for VFIO's).
 *
 * Checks the kernel makes later (unknown bits it looks at after an object
 * lookup, length limits, a buffer it only touches on some paths) stay in the
 * ioctls in the kernel's order, and read the value with the same fields.
 */
import { argBool, argBytes, argDescribe, argInt, argU32, type ErrnoName, u64Invalid } from '@genpt/pt-core';
import { DmaBuf } from './dmabuf.js';
import { fail, rethrowAsIommufd } from './errors.js';
import { MemFile } from './mm.js';
import {
  IOMMU_HW_INFO_FLAG_INPUT_TYPE,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_IOAS_MAP_READABLE,
  IOMMU_IOAS_MAP_WRITEABLE,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
} from './uapi.js';

/** How one field of a uAPI struct is read from a JavaScript value. */
export interface Field<T> {
  /** What the field is: 'u32', 'u64', 'user pointer', ... */
  readonly kind: string;
  /** The field's value, or the kernel's errno for one it cannot be; `where` is the call, `name` the field. */
  read(v: unknown, where: string, name: string): T;
}

/** A struct layout: field name -> how it is read. */
export type Spec = Record<string, Field<unknown>>;

/** What reading a struct of layout S gives. */
export type Parsed<S extends Spec> = { [K in keyof S]: S[K] extends Field<infer T> ? T : never };

type Ctor<T> = abstract new (...args: never[]) => T;

/** Run one of pt-core's argument checks, its PtError turned into an IommufdError (with `code` when given). */
function viaPt<T>(check: () => T, code?: ErrnoName): T {
  try {
    return check();
  } catch (e) {
    rethrowAsIommufd(e, code);
  }
}

/** __u16 (ops). */
export const u16: Field<number> = {
  kind: 'u16',
  read: (v, where, name) => viaPt(() => argInt(v, 0, 0xffff, where, name)),
};

/** __u32 (ids, flags, lengths of small things). */
export const u32: Field<number> = {
  kind: 'u32',
  read: (v, where, name) => viaPt(() => argU32(v, where, name)),
};

/** __s32 / int (file descriptors). */
export const s32: Field<number> = {
  kind: 's32',
  read: (v, where, name) => viaPt(() => argInt(v, -0x80000000, 0x7fffffff, where, name)),
};

/** __aligned_u64 / unsigned long / size_t: a non-negative safe integer or a bigint below 2^64, read as a bigint. */
export const u64: Field<bigint> = {
  kind: 'u64',
  read(v, where, name) {
    // pt-core reports a bigint past 2^64 as EOVERFLOW; a C field cannot hold one, so it is EINVAL like the rest.
    if (u64Invalid(v) !== undefined) fail('EINVAL', `${where}: ${name} ${argDescribe(v)} is not a u64`);
    return BigInt(v as number | bigint);
  },
};

/** A user pointer (__aligned_u64 passed to u64_to_user_ptr()): a u64, else EFAULT as no access through it can work. */
export const uptr: Field<bigint> = {
  kind: 'user pointer',
  read(v, where, name) {
    if (u64Invalid(v) !== undefined) fail('EFAULT', `${where}: ${name} ${argDescribe(v)} is not a user address`);
    return BigInt(v as number | bigint);
  },
};

/** bool: true or false only. */
export const bool: Field<boolean> = {
  kind: 'bool',
  read: (v, where, name) => viaPt(() => argBool(v, where, name)),
};

/** Anything: a field the ioctl reads itself later, when (and only if) the kernel would dereference it. */
export const later: Field<unknown> = { kind: 'checked later', read: (v) => v };

/** A u32 bitmap of flags; bits outside `known` are the ioctl's errno `code`. */
export function bits(known: number, code: ErrnoName): Field<number> {
  return {
    kind: 'u32 flags',
    read(v, where, name) {
      const n = u32.read(v, where, name);
      if ((n & ~known) !== 0) fail(code, `${where}: ${name} 0x${n.toString(16)} has bits outside 0x${known.toString(16)}`);
      return n;
    },
  };
}

/** A field the caller may leave undefined: then it is `dflt` (a zero the C caller would have left in the struct). */
export function opt<T, D>(field: Field<T>, dflt: D): Field<T | D> {
  return {
    kind: `${field.kind} (optional)`,
    read: (v, where, name) => (v === undefined ? dflt : field.read(v, where, name)),
  };
}

/** copy_from_user() of field `key` of a user object: a getter that throws is a fault in user memory. */
export function getUser(obj: object, key: string, where: string): unknown {
  try {
    return (obj as Record<string, unknown>)[key];
  } catch {
    fail('EFAULT', `${where}: reading ${key} faulted`);
  }
}

function readFields<S extends Spec>(spec: S, obj: object, where: string, prefix: string): Parsed<S> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(spec)) out[key] = spec[key]!.read(getUser(obj, key, where), where, prefix + key);
  return out as Parsed<S>;
}

function isStruct(v: unknown): v is object {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A struct in user memory (an ioctl's argument, or what a pointer field points at): EFAULT unless an object. */
export function userStruct<S extends Spec>(spec: S): Field<Parsed<S>> {
  return {
    kind: 'user struct',
    read(v, where, name) {
      if (!isStruct(v)) fail('EFAULT', `${where}: ${name} ${argDescribe(v)} is not a user struct`);
      return readFields(spec, v, where, `${name}.`);
    },
  };
}

/** Fields the model groups in an object that C keeps inline in the struct: EINVAL unless an object. */
export function fieldGroup<S extends Spec>(spec: S): Field<Parsed<S>> {
  return {
    kind: 'field group',
    read(v, where, name) {
      if (!isStruct(v)) fail('EINVAL', `${where}: ${name} ${argDescribe(v)} is not an object`);
      return readFields(spec, v, where, `${name}.`);
    },
  };
}

/** An array in user memory, each element read as `elem`: EFAULT unless an array. */
export function userArray<T>(elem: Field<T>): Field<T[]> {
  return {
    kind: `user array of ${elem.kind}`,
    read(v, where, name) {
      if (!Array.isArray(v)) fail('EFAULT', `${where}: ${name} ${argDescribe(v)} is not a user array`);
      return Array.from({ length: v.length }, (_, i) => elem.read(getUser(v, String(i), where), where, `${name}[${i}]`));
    },
  };
}

/**
 * A file descriptor, as the model's file objects: one of `want`, else EBADF
 * (fget() finds no file), or `other.code` for a file of another kind.
 */
export function fileDesc<T>(want: ReadonlyArray<Ctor<T>>, other?: { files: ReadonlyArray<Ctor<unknown>>; code: ErrnoName }): Field<T> {
  return {
    kind: 'file descriptor',
    read(v, where, name) {
      if (want.some((c) => v instanceof c)) return v as T;
      if (other?.files.some((c) => v instanceof c)) fail(other.code, `${where}: ${name} is the wrong kind of file`);
      fail('EBADF', `${where}: ${name} ${argDescribe(v)} is not an open file`);
    },
  };
}

/** A user buffer the kernel copies `len` bytes to or from: a Uint8Array of at least len bytes, else EFAULT. */
export function userBytes(v: unknown, len: number, where: string, name: string): Uint8Array {
  return viaPt(() => argBytes(v, len, where, name), 'EFAULT');
}

/** copy_to_user() of one output field of the caller's struct: EFAULT if it cannot be written. */
export function putUser(obj: object, key: string, value: unknown, where: string): void {
  try {
    (obj as Record<string, unknown>)[key] = value;
  } catch {
    fail('EFAULT', `${where}: writing ${key} faulted`);
  }
}

/** One ioctl (or test op): its name for messages and the layout of its arguments. */
export class Ioctl<S extends Spec> {
  readonly name: string;
  readonly spec: S;

  constructor(name: string, spec: S) {
    this.name = name;
    this.spec = spec;
  }

  /** Read a method's positional arguments, gathered by field name. */
  args(values: { [K in keyof S]: unknown }): Parsed<S> {
    return readFields(this.spec, values, this.name, '');
  }

  /** Read the ioctl's struct argument: EFAULT unless an object, as copying it in from user memory fails. */
  cmd(v: unknown): Parsed<S> {
    if (!isStruct(v)) fail('EFAULT', `${this.name}: the argument ${argDescribe(v)} is not a user struct`);
    return readFields(this.spec, v, this.name, '');
  }
}

/* ---- the ioctls (include/uapi/linux/iommufd.h, iommufd_test.h, linux/vfio.h) ---- */

const MAP_FLAGS = IOMMU_IOAS_MAP_FIXED_IOVA | IOMMU_IOAS_MAP_WRITEABLE | IOMMU_IOAS_MAP_READABLE;

/** struct iommu_destroy */
export const iommuDestroy = new Ioctl('destroy', { id: u32 });
/** struct iommu_ioas_map; unknown flags are the first thing the kernel refuses. */
export const iommuIoasMap = new Ioctl('ioasMap', {
  ioasId: u32,
  flags: bits(MAP_FLAGS, 'EOPNOTSUPP'),
  userVa: uptr,
  length: u64,
  iova: opt(u64, 0n),
});
/** struct iommu_ioas_map_file; the fd is looked up after the IOAS (ioasMapFileFd). */
export const iommuIoasMapFile = new Ioctl('ioasMapFile', {
  ioasId: u32,
  flags: bits(MAP_FLAGS, 'EOPNOTSUPP'),
  file: later,
  start: u64,
  length: u64,
  iova: opt(u64, 0n),
});
/** The fd of IOMMU_IOAS_MAP_FILE: a memfd or a dma-buf. */
export const ioasMapFileFd = fileDesc<MemFile | DmaBuf>([MemFile, DmaBuf]);
/** struct iommu_ioas_unmap */
export const iommuIoasUnmap = new Ioctl('ioasUnmap', { ioasId: u32, iova: u64, length: u64 });
/** struct iommu_ioas_copy */
export const iommuIoasCopy = new Ioctl('ioasCopy', {
  flags: bits(MAP_FLAGS, 'EOPNOTSUPP'),
  dstIoasId: u32,
  srcIoasId: u32,
  length: u64,
  dstIova: opt(u64, 0n),
  srcIova: u64,
});
/** struct iommu_ioas_iova_ranges; `ranges` (allowed_iovas) is only written through. */
export const iommuIoasIovaRanges = new Ioctl('ioasIovaRanges', { ioasId: u32, cmd: userStruct({ numIovas: u32, ranges: later }) });
/** struct iommu_ioas_allow_iovas with its array of struct iommu_iova_range. */
export const iommuIoasAllowIovas = new Ioctl('ioasAllowIovas', {
  ioasId: u32,
  ranges: userArray(userStruct({ start: u64, last: u64 })),
});
/** struct iommu_option */
export const iommuOption = new Ioctl('option', { optionId: u32, op: u16, objectId: u32, val64: u64 });
/** struct iommu_hwpt_alloc: data_type, data_len and data_uptr grouped as `data`; the flags are checked by the domain allocation. */
export const iommuHwptAlloc = new Ioctl('hwptAlloc', {
  devId: u32,
  ptId: u32,
  flags: u32,
  data: opt(fieldGroup({ type: u32, data: later, len: u32 }), undefined),
  faultId: opt(u32, 0),
});
/** struct iommu_hwpt_selftest up to offsetofend(iotlb), the least the mock copies. */
export const iommuHwptSelftestIotlb = userStruct({ iotlb: u32 });
/** The whole struct iommu_hwpt_selftest (data_len >= 8). */
export const iommuHwptSelftest = userStruct({ iotlb: u32, pagetableType: opt(u32, 0) });
/** struct iommu_hwpt_set_dirty_tracking */
export const iommuHwptSetDirtyTracking = new Ioctl('hwptSetDirtyTracking', {
  hwptId: u32,
  flags: bits(IOMMU_HWPT_DIRTY_TRACKING_ENABLE, 'EOPNOTSUPP'),
});
/** struct iommu_hwpt_get_dirty_bitmap */
export const iommuHwptGetDirtyBitmap = new Ioctl('hwptGetDirtyBitmap', {
  hwptId: u32,
  flags: bits(IOMMU_HWPT_GET_DIRTY_BITMAP_NO_CLEAR, 'EOPNOTSUPP'),
  iova: u64,
  length: u64,
  pageSize: u64,
  data: uptr,
});
/** struct iommu_hw_info; data (data_uptr) is only touched for data_len bytes. */
export const iommuHwInfo = new Ioctl('getHwInfo', {
  devId: u32,
  flags: opt(bits(IOMMU_HW_INFO_FLAG_INPUT_TYPE, 'EOPNOTSUPP'), 0),
  inDataType: opt(u32, 0),
  data: later,
  dataLen: u32,
});
/** struct iommu_vfio_ioas */
export const iommuVfioIoas = new Ioctl('vfioIoasOp', { op: u16, ioasId: opt(u32, 0) });
/** VFIO_SET_IOMMU's unsigned long argument. */
export const vfioSetIommuArg = new Ioctl('vfioSetIommu', { type: u64 });
/** struct vfio_iommu_type1_dma_map (argsz defaults to the size the kernel needs). */
export const vfioIommuType1DmaMap = new Ioctl('vfioMapDma', { argsz: opt(u32, 32), flags: u32, vaddr: uptr, iova: u64, size: u64 });
/** struct vfio_iommu_type1_dma_unmap */
export const vfioIommuType1DmaUnmap = new Ioctl('vfioUnmapDma', { argsz: opt(u32, 24), flags: u32, iova: u64, size: u64 });

/* IOMMU_TEST_CMD ops (struct iommu_test_cmd) */

export const testOpAddReserved = new Ioctl('testAddReserved', { ioasId: u32, start: u64, length: u64 });
export const testOpMockDomain = new Ioctl('testMockDomain', { ptId: u32, devFlags: opt(u32, 0) });
export const testOpMockDomainReplace = new Ioctl('testMockDomainReplace', { stdevId: u32, ptId: u32 });
export const testOpPasidAttach = new Ioctl('testPasidAttach', { stdevId: u32, pasid: u32, ptId: u32 });
export const testOpPasidReplace = new Ioctl('testPasidReplace', { stdevId: u32, pasid: u32, ptId: u32 });
export const testOpPasidDetach = new Ioctl('testPasidDetach', { stdevId: u32, pasid: u32 });
export const testOpMdCheckMap = new Ioctl('testMdCheckMap', { hwptId: u32, iova: u64, length: u64, uptr: uptr });
export const testOpMdCheckRefs = new Ioctl('testMdCheckRefs', { uptr: uptr, length: u64, refs: u32 });
export const testOpCreateAccess = new Ioctl('testCreateAccess', {
  ioasId: u32,
  flags: bits(MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES, 'EOPNOTSUPP'),
});
/** close() of an access fd. */
export const testOpDestroyAccess = new Ioctl('testDestroyAccess', { fd: s32 });
export const testOpDestroyAccessPages = new Ioctl('testDestroyAccessPages', { fd: u32, accessPagesId: u32 });
/** ACCESS_PAGES; the flags are checked after the length limit, as the kernel does. */
export const testOpAccessPages = new Ioctl('testAccessPages', { fd: u32, iova: u64, length: u64, uptr: uptr, flags: opt(u32, 0) });
/** ACCESS_RW; likewise. */
export const testOpAccessRw = new Ioctl('testAccessRw', { fd: u32, iova: u64, length: u64, uptr: uptr, flags: opt(u32, 0) });
export const testOpSetTempMemoryLimit = new Ioctl('testSetTempMemoryLimit', { limit: u32 });
export const testOpAccessReplaceIoas = new Ioctl('testAccessReplaceIoas', { fd: u32, ioasId: u32 });
export const testOpDirty = new Ioctl('testDirty', { hwptId: u32, iova: u64, length: u64, pageSize: u64, uptr: uptr });
export const testOpDmabufGet = new Ioctl('testDmabufGet', { length: u64 });
/** DMABUF_REVOKE: dma_buf_get() is EBADF for no file and EINVAL for a file that is not a dma-buf. */
export const testOpDmabufRevoke = new Ioctl('testDmabufRevoke', {
  dmabuf: fileDesc<DmaBuf>([DmaBuf], { files: [MemFile], code: 'EINVAL' }),
  revoked: bool,
});
