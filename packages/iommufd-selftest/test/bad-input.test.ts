/**
 * Hostile input to every ioctl of the model, as a caller passing guest- or
 * fuzzer-controlled values straight through would give it. Every entry
 * point of IommufdCtx (the iommufd ioctls, the VFIO compat ioctls and the
 * IOMMU_TEST_CMD ops) is called with valid arguments but one field replaced
 * by a value its C field could not hold (or a bad pointer, buffer or file);
 * each call must throw an IommufdError carrying an errno (EINVAL for
 * integers, EFAULT for pointers, structs and buffers, EBADF for files),
 * never a TypeError or RangeError, and leave the objects, the IOAS areas,
 * the domains' page tables and every page's pin count as they were. Positive
 * controls show the same calls succeed, u64 fields given as bigints too.
 */
import { dumpTable } from '@genpt/iommu-ops';
import { Errno, type ErrnoName, PtError, ULONG_MAX } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import {
  type DmaBuf,
  HwptPaging,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_ALLOC_PASID,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_DIRTY_TRACKING_ENABLE,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IOMMU_OPTION_HUGE_PAGES,
  IOMMU_OPTION_OP_GET,
  IOMMU_TEST_IOTLB_DEFAULT,
  IOMMU_VFIO_IOAS_SET,
  IommufdAccess,
  IommufdCtx,
  IommufdDevice,
  IommufdError,
  IommufdIoas,
  MOCK_APERTURE_START,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MOCK_FLAGS_DEVICE_PASID,
  MOCK_PAGE_SIZE,
  SelftestDevice,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1v2_IOMMU,
} from '../dist/index.js';
import { BUFFER_SIZE, PAGE_SIZE, Proc, RW } from './harness.js';

/* ---- the fixture: one of everything an ioctl can name ---- */

const IOVA = MOCK_APERTURE_START;
const VFIO_IOVA = 0x100000;

interface Fx {
  proc: Proc;
  fd: IommufdCtx;
  ioas: number;
  ioas2: number;
  stdev: number;
  idev: number;
  hwpt: number;
  access: number;
  pagesId: number;
  dmabuf: DmaBuf;
  /** Four pages of the process's memory for bitmaps and copies. */
  scratch: number;
}

/**
 * An IOAS with a PASID capable mock device on a manual dirty tracking HWPT
 * (PASID 2 attached too), the test buffer mapped at MOCK_APERTURE_START, an
 * access pinning its first page, a dma-buf, and a second IOAS that is the
 * VFIO compat IOAS with one page mapped.
 */
function fixture(): Fx {
  const proc = new Proc();
  const fd = new IommufdCtx(proc.mm);
  const ioas = fd.ioasAlloc();
  const ioas2 = fd.ioasAlloc();
  const md = fd.testMockDomain(ioas, MOCK_FLAGS_DEVICE_PASID);
  const hwpt = fd.hwptAlloc({ devId: md.idevId, ptId: ioas, flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING | IOMMU_HWPT_ALLOC_PASID });
  fd.testMockDomainReplace(md.stdevId, hwpt);
  fd.testPasidAttach(md.stdevId, 2, hwpt);
  fd.hwptSetDirtyTracking(hwpt, IOMMU_HWPT_DIRTY_TRACKING_ENABLE);
  fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, proc.buffer, BUFFER_SIZE, IOVA);
  const access = fd.testCreateAccess(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
  const pagesId = fd.testAccessPages(access, IOVA, PAGE_SIZE, proc.buffer);
  const dmabuf = fd.testDmabufGet(4 * PAGE_SIZE);
  fd.vfioIoasOp(IOMMU_VFIO_IOAS_SET, ioas2);
  fd.vfioMapDma({ flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, vaddr: proc.mfdBuffer, iova: VFIO_IOVA, size: PAGE_SIZE });
  const scratch = proc.mm.mmap(4 * PAGE_SIZE);
  return { proc, fd, ioas, ioas2, stdev: md.stdevId, idev: md.idevId, hwpt, access, pagesId, dmabuf, scratch };
}

/** Everything an ioctl could change: objects, areas, reservations, page tables (dirty bits included), pins. */
function snapshot(fx: Fx): string {
  const { fd, proc } = fx;
  const objects = fd.objects.list().map((o) => {
    const base = { id: o.id, type: o.type, users: o.users };
    if (o instanceof IommufdIoas) {
      const iopt = o.iopt;
      return {
        ...base,
        areas: iopt.areas.all().map((a) => [a.start, a.last, a.iommuProt, a.pagesStart, a.pagesLast, a.numAccesses, a.preventAccess]),
        reserved: iopt.reserved.all().map((r) => [r.start, r.last]),
        allowed: iopt.allowed.all().map((r) => [r.start, r.last]),
        alignment: iopt.iovaAlignment,
        noLarge: iopt.disableLargePages,
        domains: iopt.domains.length,
        hwpts: o.hwptList.map((h) => h.id),
      };
    }
    if (o instanceof HwptPaging) {
      return { ...base, auto: o.autoDomain, flags: o.domain.flags, table: dumpTable(o.domain.table) };
    }
    if (o instanceof IommufdDevice) return { ...base, attached: [...o.attached].map(([pasid, h]) => [pasid, h.id]) };
    if (o instanceof IommufdAccess) return { ...base, ioas: o.ioas?.id ?? 0 };
    if (o instanceof SelftestDevice) return { ...base, idev: o.idev?.id ?? 0 };
    return base;
  });
  const state = {
    objects,
    vfioIoas: fd.vfioIoas?.id ?? 0,
    accountMm: fd.accountMm,
    memoryLimit: fd.memoryLimit,
    accesses: fd.accessFdList,
    pins: [...proc.phys.pinCounts()],
    dmabuf: [fx.dmabuf.revoked, fx.dmabuf.importers.size],
  };
  return JSON.stringify(state, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/* ---- hostile values ---- */

/** Values no integer field takes. */
const NOT_NUMBERS: unknown[] = [
  'x',
  '1',
  '',
  {},
  { valueOf: () => 1 },
  new Number(1),
  null,
  [],
  [1],
  true,
  false,
  () => 1,
  Symbol('s'),
  new Uint8Array(1),
];

/** Per field kind: values its C field could not hold, and the errno the model gives them. */
const HOSTILE: Record<'u16' | 'u32' | 's32' | 'u64' | 'uptr' | 'bool', { values: unknown[]; code: ErrnoName }> = {
  u16: { values: [NaN, Infinity, -Infinity, -1, 0.5, 2 ** 16, 2 ** 32, 2 ** 53, 1n, 2n ** 64n, ...NOT_NUMBERS], code: 'EINVAL' },
  u32: {
    values: [NaN, Infinity, -Infinity, -1, 0.5, 1.5, 2 ** 32, 2 ** 40, 2 ** 53, -(2 ** 53), 1n, -1n, 2n ** 64n, ...NOT_NUMBERS],
    code: 'EINVAL',
  },
  s32: {
    values: [NaN, Infinity, -Infinity, 0.5, 2 ** 31, -(2 ** 31) - 1, 2 ** 32, 2 ** 53, 1n, 2n ** 64n, ...NOT_NUMBERS],
    code: 'EINVAL',
  },
  // A u64 takes bigints; these are the ones (and the numbers) it cannot hold.
  u64: {
    values: [NaN, Infinity, -Infinity, -1, 0.5, 1.5, 2 ** 53, 2 ** 64, -(2 ** 53), -1n, 2n ** 64n, 2n ** 65n, ...NOT_NUMBERS],
    code: 'EINVAL',
  },
  uptr: {
    values: [NaN, Infinity, -Infinity, -1, 0.5, 2 ** 53, 2 ** 64, -1n, 2n ** 64n, ...NOT_NUMBERS],
    code: 'EFAULT',
  },
  bool: { values: [0, 1, NaN, 'true', 'x', null, {}, [], 1n, new Boolean(true)], code: 'EINVAL' },
};

/** What cannot be an ioctl's struct argument (copy_from_user() faults). */
const NOT_STRUCTS: unknown[] = [null, undefined, 5, 0, 'x', '', [], [1], true, 1n, () => ({}), Symbol('s')];

type Kind = keyof typeof HOSTILE;

/** A hostile value list with the errno it must get. */
interface Attack {
  values: unknown[];
  code: ErrnoName;
  /** The argument the values go to, when the attack's label is not its name. */
  field?: string;
  /** What the argument is made of each value (a value put inside a struct). */
  wrap?: (v: unknown) => unknown;
  /** The field's kind, for the sweep of valid values at its edges. */
  kind?: Kind;
}

function attack(kind: Kind, optional = false): Attack {
  const h = HOSTILE[kind];
  // A required field left undefined is a field C cannot leave out; an optional one is its zero.
  return { values: optional ? h.values : [...h.values, undefined], code: h.code, kind };
}

/* ---- the entry points ---- */

interface Entry {
  name: string;
  /** Valid arguments by field name. */
  args(fx: Fx): Record<string, unknown>;
  /** How each field is attacked. */
  fields: Record<string, Attack>;
  /** u64 fields (given as bigints in the bigint control). */
  u64: string[];
  /** Passed as one struct: then the struct itself is attacked too. */
  struct?: true;
  call(fx: Fx, a: Record<string, unknown>): unknown;
}

const USER_BUFFERS: Attack = {
  values: [
    null,
    undefined,
    {},
    [0, 0, 0, 0, 0, 0, 0, 0],
    'xxxxxxxx',
    8,
    new Uint16Array(8),
    new DataView(new ArrayBuffer(8)),
    new Uint8Array(4),
  ],
  code: 'EFAULT',
};

const notAFile: Attack = { values: [null, undefined, {}, 5, 'x', [], new Uint8Array(8), () => 0], code: 'EBADF' };

const ENTRIES: Entry[] = [
  {
    name: 'destroy',
    args: (fx) => ({ id: fx.ioas2 }),
    fields: { id: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.destroy(a.id as never),
  },
  {
    name: 'ioasMap',
    args: (fx) => ({ ioasId: fx.ioas, flags: RW, userVa: fx.scratch, length: PAGE_SIZE, iova: undefined }),
    fields: {
      ioasId: attack('u32'),
      flags: attack('u32'),
      userVa: attack('uptr'),
      length: attack('u64'),
      iova: attack('u64', true),
    },
    u64: ['userVa', 'length'],
    call: (fx, a) => fx.fd.ioasMap(a.ioasId as never, a.flags as never, a.userVa as never, a.length as never, a.iova as never),
  },
  {
    name: 'ioasMapFile',
    args: (fx) => ({ ioasId: fx.ioas, flags: RW, file: fx.proc.mfd, start: 0, length: PAGE_SIZE, iova: undefined }),
    fields: {
      ioasId: attack('u32'),
      flags: attack('u32'),
      file: notAFile,
      start: attack('u64'),
      length: attack('u64'),
      iova: attack('u64', true),
    },
    u64: ['start', 'length'],
    call: (fx, a) =>
      fx.fd.ioasMapFile(a.ioasId as never, a.flags as never, a.file as never, a.start as never, a.length as never, a.iova as never),
  },
  {
    name: 'ioasUnmap',
    args: (fx) => ({ ioasId: fx.ioas, iova: IOVA, length: BUFFER_SIZE }),
    fields: { ioasId: attack('u32'), iova: attack('u64'), length: attack('u64') },
    u64: ['iova', 'length'],
    call: (fx, a) => fx.fd.ioasUnmap(a.ioasId as never, a.iova as never, a.length as never),
  },
  {
    name: 'ioasCopy',
    struct: true,
    args: (fx) => ({ flags: RW, srcIoasId: fx.ioas, dstIoasId: fx.ioas2, srcIova: IOVA, length: BUFFER_SIZE, dstIova: undefined }),
    fields: {
      flags: attack('u32'),
      srcIoasId: attack('u32'),
      dstIoasId: attack('u32'),
      srcIova: attack('u64'),
      length: attack('u64'),
      dstIova: attack('u64', true),
    },
    u64: ['srcIova', 'length'],
    call: (fx, a) => fx.fd.ioasCopy(a as never),
  },
  {
    name: 'ioasIovaRanges',
    args: (fx) => ({ ioasId: fx.ioas, cmd: { numIovas: 4, ranges: [] } }),
    fields: {
      ioasId: attack('u32'),
      cmd: { values: NOT_STRUCTS, code: 'EFAULT' },
      'cmd.numIovas': { ...attack('u32'), field: 'cmd', wrap: (numIovas) => ({ numIovas, ranges: [] }) },
      // allowed_iovas is written through when a range is due: then it faults.
      'cmd.ranges': { values: [null, undefined, 'x', {}, 5], code: 'EFAULT', field: 'cmd', wrap: (ranges) => ({ numIovas: 4, ranges }) },
    },
    u64: [],
    call: (fx, a) => fx.fd.ioasIovaRanges(a.ioasId as never, a.cmd as never),
  },
  {
    name: 'ioasAllowIovas',
    args: (fx) => ({ ioasId: fx.ioas2, ranges: [{ start: 0x10000000, last: 0x1fffffff }] }),
    fields: {
      ioasId: attack('u32'),
      ranges: {
        values: [null, undefined, 'x', {}, 5, [null], [5], ['x'], [[0, 1]]],
        code: 'EFAULT',
      },
    },
    u64: [],
    call: (fx, a) => fx.fd.ioasAllowIovas(a.ioasId as never, a.ranges as never),
  },
  {
    name: 'ioasAllowIovas range fields',
    args: (fx) => ({ ioasId: fx.ioas2, start: 0x10000000, last: 0x1fffffff }),
    fields: { start: attack('u64'), last: attack('u64') },
    u64: ['start', 'last'],
    call: (fx, a) => fx.fd.ioasAllowIovas(a.ioasId as never, [{ start: a.start as never, last: a.last as never }]),
  },
  {
    name: 'option',
    struct: true,
    args: (fx) => ({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, objectId: fx.ioas, val64: 0 }),
    fields: { optionId: attack('u32'), op: attack('u16'), objectId: attack('u32'), val64: attack('u64') },
    u64: ['val64'],
    call: (fx, a) => fx.fd.option(a as never),
  },
  {
    name: 'hwptAlloc',
    struct: true,
    args: (fx) => ({
      devId: fx.idev,
      ptId: fx.ioas,
      flags: 0,
      data: { type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: IOMMU_TEST_IOTLB_DEFAULT, pagetableType: 0 }, len: 8 },
      faultId: undefined,
    }),
    fields: {
      devId: attack('u32'),
      ptId: attack('u32'),
      flags: attack('u32'),
      faultId: attack('u32', true),
      data: { values: [null, 5, 'x', [], true, 1n], code: 'EINVAL' },
    },
    u64: [],
    call: (fx, a) => fx.fd.hwptAlloc(a as never),
  },
  {
    name: 'hwptAlloc driver data',
    args: () => ({ type: IOMMU_HWPT_DATA_SELFTEST, len: 8, data: { iotlb: IOMMU_TEST_IOTLB_DEFAULT, pagetableType: 0 } }),
    fields: {
      type: attack('u32'),
      len: attack('u32'),
      // data_uptr: what it points at must be a struct iommu_hwpt_selftest.
      data: { values: [null, undefined, 5, 'x', [], true, 1n, () => 0], code: 'EFAULT' },
    },
    u64: [],
    call: (fx, a) => fx.fd.hwptAlloc({ devId: fx.idev, ptId: fx.ioas, flags: 0, data: a as never }),
  },
  {
    name: 'hwptAlloc struct iommu_hwpt_selftest',
    args: () => ({ iotlb: IOMMU_TEST_IOTLB_DEFAULT, pagetableType: 0 }),
    fields: { iotlb: attack('u32'), pagetableType: attack('u32', true) },
    u64: [],
    call: (fx, a) =>
      fx.fd.hwptAlloc({ devId: fx.idev, ptId: fx.ioas, flags: 0, data: { type: IOMMU_HWPT_DATA_SELFTEST, data: a as never, len: 8 } }),
  },
  {
    name: 'hwptSetDirtyTracking',
    args: (fx) => ({ hwptId: fx.hwpt, flags: IOMMU_HWPT_DIRTY_TRACKING_ENABLE }),
    fields: { hwptId: attack('u32'), flags: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.hwptSetDirtyTracking(a.hwptId as never, a.flags as never),
  },
  {
    name: 'hwptGetDirtyBitmap',
    struct: true,
    args: (fx) => ({ hwptId: fx.hwpt, flags: 0, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, data: fx.scratch }),
    fields: {
      hwptId: attack('u32'),
      flags: attack('u32'),
      iova: attack('u64'),
      length: attack('u64'),
      pageSize: attack('u64'),
      data: attack('uptr'),
    },
    u64: ['iova', 'length', 'pageSize', 'data'],
    call: (fx, a) => fx.fd.hwptGetDirtyBitmap(a as never),
  },
  {
    name: 'getHwInfo',
    struct: true,
    args: (fx) => ({ devId: fx.idev, flags: 0, inDataType: 0, data: new Uint8Array(8), dataLen: 8 }),
    fields: {
      devId: attack('u32'),
      flags: attack('u32', true),
      inDataType: attack('u32', true),
      dataLen: attack('u32'),
      data: USER_BUFFERS,
    },
    u64: [],
    call: (fx, a) => fx.fd.getHwInfo(a as never),
  },
  {
    name: 'vfioIoasOp',
    args: (fx) => ({ op: IOMMU_VFIO_IOAS_SET, ioasId: fx.ioas2 }),
    fields: { op: attack('u16'), ioasId: attack('u32', true) },
    u64: [],
    call: (fx, a) => fx.fd.vfioIoasOp(a.op as never, a.ioasId as never),
  },
  {
    name: 'vfioSetIommu',
    args: () => ({ type: VFIO_TYPE1v2_IOMMU }),
    fields: { type: attack('u64') },
    u64: ['type'],
    call: (fx, a) => fx.fd.vfioSetIommu(a.type as never),
  },
  {
    name: 'vfioMapDma',
    struct: true,
    args: (fx) => ({ argsz: undefined, flags: VFIO_DMA_MAP_FLAG_READ, vaddr: fx.scratch, iova: 0x200000, size: PAGE_SIZE }),
    fields: { argsz: attack('u32', true), flags: attack('u32'), vaddr: attack('uptr'), iova: attack('u64'), size: attack('u64') },
    u64: ['vaddr', 'iova', 'size'],
    call: (fx, a) => fx.fd.vfioMapDma(a as never),
  },
  {
    name: 'vfioUnmapDma',
    struct: true,
    args: () => ({ argsz: undefined, flags: 0, iova: VFIO_IOVA, size: PAGE_SIZE }),
    fields: { argsz: attack('u32', true), flags: attack('u32'), iova: attack('u64'), size: attack('u64') },
    u64: ['iova', 'size'],
    call: (fx, a) => fx.fd.vfioUnmapDma(a as never),
  },
  {
    name: 'vfioGetInfo',
    args: () => {
      const buf = new Uint8Array(256);
      new DataView(buf.buffer).setUint32(0, buf.length, true);
      return { buf };
    },
    fields: {
      buf: {
        values: [
          ...USER_BUFFERS.values,
          new Uint8Array(15),
          // argsz says 256 bytes, the buffer holds 32: the capability chain after the 24 byte struct faults.
          (() => {
            const b = new Uint8Array(32);
            new DataView(b.buffer).setUint32(0, 256, true);
            return b;
          })(),
        ],
        code: 'EFAULT',
      },
    },
    u64: [],
    call: (fx, a) => fx.fd.vfioGetInfo(a.buf as never),
  },
  {
    name: 'testAddReserved',
    args: (fx) => ({ ioasId: fx.ioas2, start: 0x40000000, length: PAGE_SIZE }),
    fields: { ioasId: attack('u32'), start: attack('u64'), length: attack('u64') },
    u64: ['start', 'length'],
    call: (fx, a) => fx.fd.testAddReserved(a.ioasId as never, a.start as never, a.length as never),
  },
  {
    name: 'testMockDomain',
    args: (fx) => ({ ptId: fx.ioas, devFlags: undefined }),
    fields: { ptId: attack('u32'), devFlags: attack('u32', true) },
    u64: [],
    call: (fx, a) => fx.fd.testMockDomain(a.ptId as never, a.devFlags as never),
  },
  {
    name: 'testMockDomainReplace',
    args: (fx) => ({ stdevId: fx.stdev, ptId: fx.hwpt }),
    fields: { stdevId: attack('u32'), ptId: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testMockDomainReplace(a.stdevId as never, a.ptId as never),
  },
  {
    name: 'testPasidAttach',
    args: (fx) => ({ stdevId: fx.stdev, pasid: 1, ptId: fx.hwpt }),
    fields: { stdevId: attack('u32'), pasid: attack('u32'), ptId: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testPasidAttach(a.stdevId as never, a.pasid as never, a.ptId as never),
  },
  {
    name: 'testPasidReplace',
    args: (fx) => ({ stdevId: fx.stdev, pasid: 2, ptId: fx.hwpt }),
    fields: { stdevId: attack('u32'), pasid: attack('u32'), ptId: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testPasidReplace(a.stdevId as never, a.pasid as never, a.ptId as never),
  },
  {
    name: 'testPasidDetach',
    args: (fx) => ({ stdevId: fx.stdev, pasid: 2 }),
    fields: { stdevId: attack('u32'), pasid: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testPasidDetach(a.stdevId as never, a.pasid as never),
  },
  {
    name: 'testMdCheckMap',
    args: (fx) => ({ hwptId: fx.hwpt, iova: IOVA, length: BUFFER_SIZE, uptr: fx.proc.buffer }),
    fields: { hwptId: attack('u32'), iova: attack('u64'), length: attack('u64'), uptr: attack('uptr') },
    u64: ['iova', 'length', 'uptr'],
    call: (fx, a) => fx.fd.testMdCheckMap(a.hwptId as never, a.iova as never, a.length as never, a.uptr as never),
  },
  {
    name: 'testMdCheckRefs',
    args: (fx) => ({ uptr: fx.proc.buffer, length: BUFFER_SIZE, refs: 1 }),
    fields: { uptr: attack('uptr'), length: attack('u64'), refs: attack('u32') },
    u64: ['uptr', 'length'],
    call: (fx, a) => fx.fd.testMdCheckRefs(a.uptr as never, a.length as never, a.refs as never),
  },
  {
    name: 'testCreateAccess',
    args: (fx) => ({ ioasId: fx.ioas, flags: 0 }),
    fields: { ioasId: attack('u32'), flags: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testCreateAccess(a.ioasId as never, a.flags as never),
  },
  {
    name: 'testDestroyAccess',
    args: (fx) => ({ fd: fx.access }),
    fields: { fd: attack('s32') },
    u64: [],
    call: (fx, a) => fx.fd.testDestroyAccess(a.fd as never),
  },
  {
    name: 'testDestroyAccessPages',
    args: (fx) => ({ fd: fx.access, accessPagesId: fx.pagesId }),
    fields: { fd: attack('u32'), accessPagesId: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testDestroyAccessPages(a.fd as never, a.accessPagesId as never),
  },
  {
    name: 'testAccessPages',
    args: (fx) => ({ fd: fx.access, iova: IOVA, length: PAGE_SIZE, uptr: fx.proc.buffer, flags: undefined }),
    fields: { fd: attack('u32'), iova: attack('u64'), length: attack('u64'), uptr: attack('uptr'), flags: attack('u32', true) },
    u64: ['iova', 'length', 'uptr'],
    call: (fx, a) => fx.fd.testAccessPages(a.fd as never, a.iova as never, a.length as never, a.uptr as never, a.flags as never),
  },
  {
    name: 'testAccessRw',
    args: (fx) => ({ fd: fx.access, iova: IOVA, length: 16, uptr: fx.scratch, flags: undefined }),
    fields: { fd: attack('u32'), iova: attack('u64'), length: attack('u64'), uptr: attack('uptr'), flags: attack('u32', true) },
    u64: ['iova', 'length', 'uptr'],
    call: (fx, a) => fx.fd.testAccessRw(a.fd as never, a.iova as never, a.length as never, a.uptr as never, a.flags as never),
  },
  {
    name: 'testSetTempMemoryLimit',
    args: () => ({ limit: 65536 }),
    fields: { limit: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testSetTempMemoryLimit(a.limit as never),
  },
  {
    name: 'testAccessReplaceIoas',
    args: (fx) => ({ fd: fx.access, ioasId: fx.ioas2 }),
    fields: { fd: attack('u32'), ioasId: attack('u32') },
    u64: [],
    call: (fx, a) => fx.fd.testAccessReplaceIoas(a.fd as never, a.ioasId as never),
  },
  {
    name: 'testDirty',
    args: (fx) => ({ hwptId: fx.hwpt, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, uptr: fx.scratch }),
    fields: { hwptId: attack('u32'), iova: attack('u64'), length: attack('u64'), pageSize: attack('u64'), uptr: attack('uptr') },
    u64: ['iova', 'length', 'pageSize', 'uptr'],
    call: (fx, a) => fx.fd.testDirty(a.hwptId as never, a.iova as never, a.length as never, a.pageSize as never, a.uptr as never),
  },
  {
    name: 'testDmabufGet',
    args: () => ({ length: PAGE_SIZE }),
    fields: { length: attack('u64') },
    u64: ['length'],
    call: (fx, a) => fx.fd.testDmabufGet(a.length as never),
  },
  {
    name: 'testDmabufRevoke',
    args: (fx) => ({ dmabuf: fx.dmabuf, revoked: true }),
    fields: {
      // dma_buf_get(): no file is EBADF, a memfd (a file, not a dma-buf) EINVAL.
      dmabuf: notAFile,
      revoked: attack('bool'),
    },
    u64: [],
    call: (fx, a) => fx.fd.testDmabufRevoke(a.dmabuf as never, a.revoked as never),
  },
];

/* ---- the sweep ---- */

interface Outcome {
  tries: number;
  untyped: string[];
  accepted: string[];
  wrongErrno: string[];
  changed: string[];
}

const totals = { tries: 0, untyped: 0, entries: 0 };

function describeValue(v: unknown): string {
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'symbol' || typeof v === 'function') return String(v);
  if (v instanceof Uint8Array || v instanceof Uint16Array) return `${v.constructor.name}(${v.length})`;
  try {
    return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}

/** Call with one hostile value and classify what happened. */
function tryOne(fx: Fx, before: string, label: string, expected: ErrnoName, out: Outcome, run: () => unknown): void {
  out.tries++;
  let thrown: unknown;
  let threw = false;
  try {
    run();
  } catch (err) {
    threw = true;
    thrown = err;
  }
  if (!threw) out.accepted.push(label);
  else if (!(thrown instanceof IommufdError) || !(thrown.code in Errno) || thrown.errno !== Errno[thrown.code]) {
    out.untyped.push(`${label}: ${String(thrown)}`);
  } else if (thrown.code !== expected) out.wrongErrno.push(`${label}: ${thrown.code} (${thrown.message}), expected ${expected}`);
  if (snapshot(fx) !== before) out.changed.push(label);
}

function sweep(e: Entry): Outcome {
  const fx = fixture();
  const before = snapshot(fx);
  const out: Outcome = { tries: 0, untyped: [], accepted: [], wrongErrno: [], changed: [] };
  for (const [label, { values, code, field, wrap }] of Object.entries(e.fields)) {
    for (const v of values) {
      const a = { ...e.args(fx), [field ?? label]: wrap ? wrap(v) : v };
      tryOne(fx, before, `${e.name} ${label}=${describeValue(v)}`, code, out, () => e.call(fx, a));
    }
  }
  if (e.struct) {
    for (const v of NOT_STRUCTS) tryOne(fx, before, `${e.name} cmd=${describeValue(v)}`, 'EFAULT', out, () => e.call(fx, v as never));
  }
  fx.fd.close();
  return out;
}

describe('bad input: every ioctl refuses values its C field cannot hold, with a typed errno and no state change', () => {
  for (const e of ENTRIES) {
    it(e.name, () => {
      const out = sweep(e);
      totals.tries += out.tries;
      totals.untyped += out.untyped.length;
      totals.entries++;
      expect(out.untyped, 'untyped errors').toEqual([]);
      expect(out.accepted, 'hostile values accepted').toEqual([]);
      expect(out.wrongErrno, 'wrong errno').toEqual([]);
      expect(out.changed, 'state changed by a failed call').toEqual([]);
    });
  }

  it('the sweep covered every entry point and found no untyped error', () => {
    expect(totals.entries).toBe(ENTRIES.length);
    // The README quotes this count.
    console.log(`bad-input sweep: ${totals.tries} hostile inputs over ${ENTRIES.length} entry points, ${totals.untyped} untyped errors`);
    expect(totals.untyped).toBe(0);
  });
});

/* ---- valid values at the edges of each field ---- */

/** Values each kind of field can hold, at and near its limits and the model's alignments. */
const EDGES: Record<Kind, unknown[]> = {
  u16: [0, 1, 2, 3, 0xffff],
  u32: [0, 1, 2, 3, 4, 8, 0xdead, 1000, 1001, 0x7fffffff, 0x80000000, 0xffffffff],
  s32: [-1, 0, 1, 1000, 0x7fffffff, -0x80000000],
  u64: [
    0,
    1,
    2,
    2047,
    2048,
    4095,
    4096,
    2 ** 24,
    2 ** 31,
    2 ** 32,
    2 ** 53 - 1,
    2n ** 63n,
    2n ** 64n - 4096n,
    2n ** 64n - 2048n,
    2n ** 64n - 1n,
  ],
  uptr: [0, 1, 4096, 0x7e0000000000, 0x7e0000000001, 0x7e000000fff0, 2 ** 47, 2 ** 53 - 1, 2n ** 63n, 2n ** 64n - 4096n, 2n ** 64n - 1n],
  bool: [true, false],
};

const edgeTotals = { tries: 0, untyped: 0 };

describe('valid values at the edges of each field: success or a typed errno, and a failed call changes nothing', () => {
  for (const e of ENTRIES) {
    it(e.name, () => {
      const out: Outcome = { tries: 0, untyped: [], accepted: [], wrongErrno: [], changed: [] };
      let fx = fixture();
      for (const [label, { kind, field, wrap }] of Object.entries(e.fields)) {
        if (kind === undefined || wrap) continue;
        for (const v of EDGES[kind]) {
          out.tries++;
          const at = `${e.name} ${label}=${describeValue(v)}`;
          const before = snapshot(fx);
          try {
            e.call(fx, { ...e.args(fx), [field ?? label]: v });
          } catch (err) {
            if (!(err instanceof PtError) || err.errno !== Errno[err.code]) out.untyped.push(`${at}: ${String(err)}`);
            else if (snapshot(fx) !== before) out.changed.push(`${at}: ${err.message}`);
            continue;
          }
          // It worked and may have changed things: teardown must still be clean, then a fresh fixture.
          fx.fd.close();
          expect(fx.proc.phys.totalPins(), at).toBe(0);
          fx = fixture();
        }
      }
      fx.fd.close();
      edgeTotals.tries += out.tries;
      edgeTotals.untyped += out.untyped.length;
      expect(out.untyped, 'untyped errors').toEqual([]);
      expect(out.changed, 'state changed by a failed call').toEqual([]);
    });
  }

  it('found no untyped error', () => {
    console.log(`edge-value sweep: ${edgeTotals.tries} valid-width inputs, ${edgeTotals.untyped} untyped errors`);
    expect(edgeTotals.untyped).toBe(0);
  });
});

/* ---- positive controls ---- */

function toBig(a: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out = { ...a };
  for (const f of fields) out[f] = BigInt(out[f] as number);
  return out;
}

describe('the same calls with valid arguments succeed, u64 fields as numbers or as bigints', () => {
  for (const e of ENTRIES) {
    it(e.name, () => {
      for (const big of [false, true]) {
        const fx = fixture();
        const a = e.args(fx);
        expect(() => e.call(fx, big ? toBig(a, e.u64) : a), big ? 'bigints' : 'numbers').not.toThrow();
        fx.fd.close();
        expect(fx.proc.phys.totalPins()).toBe(0);
      }
    });
  }

  it('u64 fields take bigints at the top of their range', () => {
    const fx = fixture();
    // The last page below 2^64: a valid u64 pair past the mock aperture, so reserved (EINVAL), not a type error.
    expect(() => fx.fd.ioasMap(fx.ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, fx.scratch, 4096n, ULONG_MAX - 4095n)).toThrow(
      /EINVAL: IOVA is reserved/,
    );
    // ULONG_MAX itself is the kernel's EOVERFLOW.
    expect(() => fx.fd.ioasMap(fx.ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, fx.scratch, PAGE_SIZE, ULONG_MAX)).toThrow(/EOVERFLOW/);
    // Unmap of everything: iova 0, length U64_MAX as a bigint.
    expect(fx.fd.ioasUnmap(fx.ioas, 0n, ULONG_MAX)).toBe(BigInt(BUFFER_SIZE));
    fx.fd.close();
  });
});

/* ---- the cases the issue names, and the kernel's dirty bitmap behaviour ---- */

function expectCode(code: ErrnoName, fn: () => unknown): void {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  expect(err, `expected ${code}`).toBeInstanceOf(IommufdError);
  expect((err as IommufdError).code).toBe(code);
}

/** Read the dirty bits of the fixture's buffer (32 bits of 2 KiB) through a clean bitmap at scratch. */
function dirtyBits(fx: Fx): number[] {
  fx.proc.mm.fill(fx.scratch, 8, 0);
  fx.fd.hwptGetDirtyBitmap({ hwptId: fx.hwpt, flags: 0, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, data: fx.scratch });
  const bytes = fx.proc.mm.read(fx.scratch, 4);
  const out: number[] = [];
  for (let i = 0; i < 32; i++) if (bytes[i >> 3]! & (1 << (i & 7))) out.push(i);
  return out;
}

/** Mark bits of the buffer dirty through the DIRTY test op. */
function markDirty(fx: Fx, bits: number[]): void {
  const map = new Uint8Array(4);
  for (const b of bits) map[b >> 3]! |= 1 << (b & 7);
  fx.proc.mm.write(fx.scratch, map);
  expect(fx.fd.testDirty(fx.hwpt, IOVA, BUFFER_SIZE, MOCK_PAGE_SIZE, fx.scratch)).toBe(bits.length);
}

describe('what the issue found', () => {
  it('inputs that crashed with untyped errors are typed errors', () => {
    const fx = fixture();
    const before = snapshot(fx);
    expectCode('EINVAL', () => fx.fd.option({ optionId: IOMMU_OPTION_HUGE_PAGES, op: IOMMU_OPTION_OP_GET, objectId: fx.ioas, val64: 0.5 }));
    expectCode('EINVAL', () => fx.fd.testAccessRw(fx.access, IOVA, -1, fx.scratch));
    // A flag is a u32, not a bigint; a length or a user pointer is a u64 and may be one.
    expectCode('EINVAL', () => fx.fd.ioasMap(fx.ioas, BigInt(RW) as never, fx.scratch, PAGE_SIZE));
    expectCode('EINVAL', () => fx.fd.testAccessRw(fx.access, IOVA, 16, fx.scratch, 0n as never));
    expect(snapshot(fx)).toBe(before);
    expect(fx.fd.ioasMap(fx.ioas, RW, BigInt(fx.scratch), BigInt(PAGE_SIZE))).toBeTypeOf('bigint');
    fx.fd.testAccessRw(fx.access, BigInt(IOVA), 16n, BigInt(fx.scratch));
    fx.fd.close();
  });

  it('inputs that were accepted are refused and change nothing', () => {
    const fx = fixture();
    const before = snapshot(fx);
    for (const flags of [NaN, Infinity, undefined, 'x', {}, 2 ** 40]) {
      expectCode('EINVAL', () => fx.fd.vfioUnmapDma({ flags: flags as never, iova: VFIO_IOVA, size: PAGE_SIZE }));
      expectCode('EINVAL', () => fx.fd.hwptAlloc({ devId: fx.idev, ptId: fx.ioas, flags: flags as never }));
    }
    expectCode('EINVAL', () => fx.fd.testDmabufGet(-4096));
    expectCode('EINVAL', () => fx.fd.testMdCheckRefs(fx.proc.buffer, -4096, 7));
    for (const data of [-1, NaN]) {
      expectCode('EFAULT', () =>
        fx.fd.hwptGetDirtyBitmap({ hwptId: fx.hwpt, flags: 0, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, data }),
      );
    }
    expect(snapshot(fx)).toBe(before);
    // The VFIO mapping is still there to unmap.
    const unmap = { flags: 0, iova: VFIO_IOVA, size: PAGE_SIZE as number | bigint };
    fx.fd.vfioUnmapDma(unmap);
    expect(unmap.size).toBe(BigInt(PAGE_SIZE));
    fx.fd.close();
  });

  it('a nested HWPT request is a typed error: EOPNOTSUPP without driver data, EINVAL on a parent that is not NEST_PARENT', () => {
    const fx = fixture();
    const before = snapshot(fx);
    expectCode('EOPNOTSUPP', () => fx.fd.hwptAlloc({ devId: fx.idev, ptId: fx.hwpt, flags: 0 }));
    const data = { type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: IOMMU_TEST_IOTLB_DEFAULT }, len: 4 };
    expectCode('EINVAL', () => fx.fd.hwptAlloc({ devId: fx.idev, ptId: fx.hwpt, flags: 0, data }));
    expect(snapshot(fx)).toBe(before);
    fx.fd.close();
  });

  it('GET_DIRTY_BITMAP into memory that cannot be pinned succeeds, reporting and clearing nothing, as the kernel does', () => {
    const fx = fixture();
    markDirty(fx, [2, 20]);
    const readOnly = fx.proc.mm.mmap(PAGE_SIZE, { write: false });
    for (const data of [0, 0x1000, readOnly, 2n ** 63n]) {
      fx.fd.hwptGetDirtyBitmap({ hwptId: fx.hwpt, flags: 0, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, data });
    }
    expect(dirtyBits(fx)).toEqual([2, 20]);
    expect(dirtyBits(fx)).toEqual([]);
    fx.fd.close();
  });

  it('GET_DIRTY_BITMAP whose bitmap runs off its mapping reports the pinned bits and loses the rest, as the kernel does', () => {
    const fx = fixture();
    markDirty(fx, [2, 20]);
    // Two bytes before the end of scratch (the next page is a guard gap): bits 0..15 can be pinned.
    const data = fx.scratch + 4 * PAGE_SIZE - 2;
    fx.proc.mm.fill(data, 2, 0);
    fx.fd.hwptGetDirtyBitmap({ hwptId: fx.hwpt, flags: 0, iova: IOVA, length: BUFFER_SIZE, pageSize: MOCK_PAGE_SIZE, data });
    expect([...fx.proc.mm.read(data, 2)]).toEqual([1 << 2, 0]);
    // The walk covered the whole u64 word, so bit 20 was cleared without being reported.
    expect(dirtyBits(fx)).toEqual([]);
    fx.fd.close();
  });

  it('DIRTY refuses a bitmap kvzalloc() cannot allocate (ENOMEM) and one it cannot copy in (EFAULT)', () => {
    const fx = fixture();
    const before = snapshot(fx);
    expectCode('ENOMEM', () => fx.fd.testDirty(fx.hwpt, 0, 2n ** 63n, 1, fx.scratch));
    // 2^21 bits: 256 KiB of bitmap, past the 16 KiB of scratch.
    expectCode('EFAULT', () => fx.fd.testDirty(fx.hwpt, IOVA, 2 ** 32, MOCK_PAGE_SIZE, fx.scratch));
    expectCode('EFAULT', () => fx.fd.testDirty(fx.hwpt, IOVA, BUFFER_SIZE, MOCK_PAGE_SIZE, 2n ** 60n));
    expect(snapshot(fx)).toBe(before);
    fx.fd.close();
  });
});
