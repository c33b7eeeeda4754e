/**
 * The model behind the ported selftest, checked directly: the invariants the
 * C tests rely on (pins, shared domains, failure leaves nothing behind), the
 * negative paths they do not reach, and that MD_CHECK_MAP really notices a
 * wrong page table.
 */
import { U64_MAX } from '@genpt/pt-core';
import { describe, expect, it } from 'vitest';
import {
  IntervalList,
  IOMMU_HWPT_ALLOC_DIRTY_TRACKING,
  IOMMU_HWPT_DATA_NONE,
  IOMMU_HWPT_DATA_SELFTEST,
  IOMMU_HWPT_FAULT_ID_VALID,
  IOMMU_IOAS_MAP_FIXED_IOVA,
  IoPagetable,
  MOCK_APERTURE_START,
  MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES,
  MemFile,
  Mm,
  PhysMemory,
  spans,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_TYPE1_IOMMU,
  IOMMU_VFIO_IOAS_SET,
  type HwptPaging,
} from '../dist/index.js';
import { BUFFER_SIZE, HUGEPAGE_SIZE, PAGE_SIZE, Proc, RW, expectErrno, openIommufd } from './harness.js';

function setup(domains = 1) {
  const proc = new Proc();
  const fd = openIommufd(proc);
  const ioas = fd.ioasAlloc();
  const ids = [];
  for (let i = 0; i < domains; i++) ids.push(fd.testMockDomain(ioas));
  return { proc, fd, ioas, ids };
}

describe('mock domains in an IOAS', () => {
  it('devices attached to one IOAS share its automatic HWPT, as the kernel shares a compatible domain', () => {
    const { fd, ids } = setup(2);
    expect(ids[0]!.hwptId).toBe(ids[1]!.hwptId);
    expect(ids[0]!.idevId).not.toBe(ids[1]!.idevId);
    fd.close();
  });

  it('pages are pinned once while any domain holds them, and not at all without one', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const other = fd.ioasAlloc();
    fd.ioasMap(other, RW, proc.buffer, BUFFER_SIZE);
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 0);
    fd.ioasMap(ioas, RW, proc.buffer, BUFFER_SIZE);
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 1);
    // A manual HWPT on the same IOAS maps the same pages without pinning again.
    const hwpt = fd.hwptAlloc({ devId: ids[0]!.idevId, ptId: ioas, flags: 0 });
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 1);
    fd.testMdCheckMap(hwpt, MOCK_APERTURE_START, BUFFER_SIZE, proc.buffer);
    // A second area over the same pages is a second pin.
    fd.ioasMap(ioas, RW, proc.buffer, PAGE_SIZE);
    fd.testMdCheckRefs(proc.buffer, PAGE_SIZE, 2);
    fd.destroy(ids[0]!.stdevId);
    fd.destroy(hwpt);
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 0);
    fd.close();
    expect(proc.phys.totalPins()).toBe(0);
  });

  it('MD_CHECK_MAP notices a page table that lost or moved a mapping', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const iova = fd.ioasMap(ioas, RW, proc.buffer, BUFFER_SIZE);
    fd.testMdCheckMap(ids[0]!.hwptId, iova, BUFFER_SIZE, proc.buffer);
    const hwpt = fd.objects.get<HwptPaging>(ids[0]!.hwptId);
    expectErrno('EINVAL', () => fd.testMdCheckMap(ids[0]!.hwptId, iova, BUFFER_SIZE, proc.buffer + PAGE_SIZE));
    hwpt.domain.unmap(iova + BigInt(PAGE_SIZE), BigInt(PAGE_SIZE));
    expectErrno('EINVAL', () => fd.testMdCheckMap(ids[0]!.hwptId, iova, BUFFER_SIZE, proc.buffer));
    hwpt.domain.map(iova + BigInt(PAGE_SIZE), 0x123456000, BigInt(PAGE_SIZE), 3);
    expectErrno('EINVAL', () => fd.testMdCheckMap(ids[0]!.hwptId, iova, BUFFER_SIZE, proc.buffer));
    // Misaligned arguments are refused before looking.
    expectErrno('EINVAL', () => fd.testMdCheckMap(ids[0]!.hwptId, iova + 1n, PAGE_SIZE, proc.buffer));
    expectErrno('EINVAL', () => fd.testMdCheckMap(ids[0]!.hwptId, iova, 100, proc.buffer));
    expectErrno('ENOENT', () => fd.testMdCheckMap(ioas, iova, PAGE_SIZE, proc.buffer));
  });

  it('a map failing part way (EFAULT) leaves no area, no mapping and no pins', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const buf = proc.mm.mmap(8 * PAGE_SIZE);
    proc.mm.munmap(buf + 6 * PAGE_SIZE, PAGE_SIZE);
    expectErrno('EFAULT', () => fd.ioasMap(ioas, IOMMU_IOAS_MAP_FIXED_IOVA | RW, buf, 8 * PAGE_SIZE, MOCK_APERTURE_START));
    const hwpt = fd.objects.get<HwptPaging>(ids[0]!.hwptId);
    for (let i = 0; i < 8; i++) expect(hwpt.domain.iovaToPhys(BigInt(MOCK_APERTURE_START + i * PAGE_SIZE))).toBe(0n);
    expect(proc.phys.totalPins()).toBe(0);
    expectErrno('ENOENT', () => fd.ioasUnmap(ioas, MOCK_APERTURE_START, 8 * PAGE_SIZE));
    // The same IOVA maps fine afterwards.
    fd.ioasMap(ioas, IOMMU_IOAS_MAP_FIXED_IOVA | RW, buf, 6 * PAGE_SIZE, MOCK_APERTURE_START);
    fd.testMdCheckMap(ids[0]!.hwptId, MOCK_APERTURE_START, 6 * PAGE_SIZE, buf);
    fd.close();
  });

  it('a device attach that cannot fill the new domain leaves no objects behind', () => {
    // An area outside the mock aperture refuses the domain (EADDRINUSE) ...
    {
      const proc = new Proc();
      const fd = openIommufd(proc);
      const ioas = fd.ioasAlloc();
      fd.ioasMap(ioas, RW, proc.buffer, BUFFER_SIZE);
      expectErrno('EADDRINUSE', () => fd.testMockDomain(ioas));
      expect(fd.objects.list()).toHaveLength(1);
      fd.close();
    }
    // ... and pages that can no longer be pinned make it fail EFAULT.
    const proc = new Proc();
    const fd = openIommufd(proc);
    const ioas = fd.ioasAlloc();
    const child = proc.mm.fork();
    fd.current = child;
    fd.ioasMap(ioas, IOMMU_IOAS_MAP_FIXED_IOVA | RW, proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
    fd.current = proc.mm;
    child.exit();
    const before = fd.objects.list().map((o) => o.id);
    expectErrno('EFAULT', () => fd.testMockDomain(ioas));
    expect(fd.objects.list().map((o) => o.id)).toEqual(before);
    // The ids it used are free again.
    expect(fd.ioasAlloc()).toBe(2);
    fd.close();
  });

  it('HWPT_ALLOC validates driver data like the kernel', () => {
    const { fd, ioas, ids } = setup(1);
    const dev = ids[0]!.idevId;
    const data = (d: unknown) => () => fd.hwptAlloc({ devId: dev, ptId: ioas, flags: 0, data: d as never });
    expectErrno('EINVAL', data({ type: IOMMU_HWPT_DATA_NONE, data: null, len: 8 }));
    expectErrno('EINVAL', data({ type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: 0 }, len: 0 }));
    expectErrno('EOPNOTSUPP', data({ type: IOMMU_HWPT_DATA_SELFTEST + 1, data: { iotlb: 0 }, len: 8 }));
    expectErrno('EINVAL', data({ type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: 0 }, len: 3 }));
    expectErrno('EFAULT', data({ type: IOMMU_HWPT_DATA_SELFTEST, data: null, len: 8 }));
    // Linux 7.0 has the default and the huge mock tables only.
    expectErrno('EOPNOTSUPP', data({ type: IOMMU_HWPT_DATA_SELFTEST, data: { iotlb: 0, pagetableType: 2 }, len: 8 }));
    expectErrno('ENOENT', () => fd.hwptAlloc({ devId: ioas, ptId: ioas, flags: 0 }));
    expectErrno('EINVAL', () => fd.hwptAlloc({ devId: dev, ptId: dev, flags: 0 }));
    expectErrno('EINVAL', () => fd.hwptAlloc({ devId: dev, ptId: 999, flags: 0 }));
    expectErrno('ENOENT', () => fd.hwptAlloc({ devId: dev, ptId: ioas, flags: IOMMU_HWPT_FAULT_ID_VALID, faultId: 1 }));
    // None of the refused allocations left an object.
    expect(fd.objects.list().filter((o) => o.type === 'hwpt_paging')).toHaveLength(1);
    fd.close();
  });

  it('dirty ops refuse what the kernel refuses', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const bitmap = proc.mm.mmap(PAGE_SIZE);
    fd.ioasMap(ioas, IOMMU_IOAS_MAP_FIXED_IOVA | RW, proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
    const plain = ids[0]!.hwptId;
    expectErrno('EOPNOTSUPP', () => fd.hwptSetDirtyTracking(plain, 1));
    expectErrno('EOPNOTSUPP', () =>
      fd.hwptGetDirtyBitmap({ hwptId: plain, flags: 0, iova: MOCK_APERTURE_START, length: BUFFER_SIZE, pageSize: 2048, data: bitmap }),
    );
    expectErrno('EINVAL', () => fd.testDirty(plain, MOCK_APERTURE_START, BUFFER_SIZE, 2048, bitmap));
    const dirty = fd.hwptAlloc({ devId: ids[0]!.idevId, ptId: ioas, flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING });
    // Tracking is off: the test op refuses.
    expectErrno('EINVAL', () => fd.testDirty(dirty, MOCK_APERTURE_START, BUFFER_SIZE, 2048, bitmap));
    fd.hwptSetDirtyTracking(dirty, 1);
    expectErrno('EINVAL', () => fd.testDirty(dirty, MOCK_APERTURE_START + 1, BUFFER_SIZE, 2048, bitmap));
    expectErrno('EINVAL', () => fd.testDirty(dirty, MOCK_APERTURE_START, 0, 2048, bitmap));
    expectErrno('EINVAL', () => fd.testDirty(dirty, MOCK_APERTURE_START, BUFFER_SIZE, 2048, 0));
    const get = (over: object) => () =>
      fd.hwptGetDirtyBitmap({
        hwptId: dirty,
        flags: 0,
        iova: MOCK_APERTURE_START,
        length: BUFFER_SIZE,
        pageSize: 2048,
        data: bitmap,
        ...over,
      });
    expectErrno('EINVAL', get({ iova: MOCK_APERTURE_START + 1024 }));
    expectErrno('EINVAL', get({ pageSize: 0 }));
    expectErrno('EINVAL', get({ pageSize: 8192, iova: MOCK_APERTURE_START + 4096 }));
    expectErrno('EOVERFLOW', get({ iova: U64_MAX - 4095n }));
    expectErrno('EOPNOTSUPP', get({ flags: 2 }));
    expectErrno('EOPNOTSUPP', () => fd.hwptSetDirtyTracking(dirty, 2));
    fd.close();
  });

  it('dirty bits set before tracking is enabled are cleared by enabling it', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const bitmap = proc.mm.mmap(PAGE_SIZE);
    fd.ioasMap(ioas, IOMMU_IOAS_MAP_FIXED_IOVA | RW, proc.buffer, BUFFER_SIZE, MOCK_APERTURE_START);
    const dirty = fd.hwptAlloc({ devId: ids[0]!.idevId, ptId: ioas, flags: IOMMU_HWPT_ALLOC_DIRTY_TRACKING });
    fd.objects.get<HwptPaging>(dirty).domain.setDirty(MOCK_APERTURE_START);
    fd.hwptSetDirtyTracking(dirty, 1);
    fd.hwptGetDirtyBitmap({ hwptId: dirty, flags: 0, iova: MOCK_APERTURE_START, length: BUFFER_SIZE, pageSize: 2048, data: bitmap });
    expect(proc.mm.read(bitmap, BUFFER_SIZE / 2048 / 8).every((b) => b === 0)).toBe(true);
    fd.close();
  });

  it('type1 VFIO unmap of the middle of a mapping leaves the rest translating', () => {
    const { proc, fd, ioas, ids } = setup(1);
    fd.vfioIoasOp(IOMMU_VFIO_IOAS_SET, ioas);
    fd.vfioSetIommu(VFIO_TYPE1_IOMMU);
    const buf = proc.mm.mmap(HUGEPAGE_SIZE, { hugetlb: true, populate: true });
    fd.vfioMapDma({ flags: VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, vaddr: buf, iova: MOCK_APERTURE_START, size: HUGEPAGE_SIZE });
    const mid = MOCK_APERTURE_START + HUGEPAGE_SIZE / 4;
    const cmd = { flags: 0, iova: mid, size: HUGEPAGE_SIZE / 4 };
    fd.vfioUnmapDma(cmd);
    expect(cmd.size).toBe(BigInt(HUGEPAGE_SIZE / 4));
    const hwpt = ids[0]!.hwptId;
    fd.testMdCheckMap(hwpt, MOCK_APERTURE_START, HUGEPAGE_SIZE / 4, buf);
    fd.testMdCheckMap(hwpt, mid + HUGEPAGE_SIZE / 4, HUGEPAGE_SIZE / 2, buf + HUGEPAGE_SIZE / 2);
    expect(fd.objects.get<HwptPaging>(hwpt).domain.iovaToPhys(BigInt(mid))).toBe(0n);
    fd.close();
  });

  it('an unmap of pinned IOVA makes the access let go first', () => {
    const { proc, fd, ioas } = setup(0);
    const access = fd.testCreateAccess(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
    const iova = fd.ioasMap(ioas, RW, proc.buffer, BUFFER_SIZE);
    fd.testAccessPages(access, iova, BUFFER_SIZE, proc.buffer);
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 1);
    // Access IDs are objects the user cannot destroy.
    expectErrno('EBUSY', () => fd.destroy(2));
    expectErrno('EBADFD', () => fd.testAccessPages(access + 1, iova, PAGE_SIZE, proc.buffer));
    expect(fd.ioasUnmap(ioas, iova, BUFFER_SIZE)).toBe(BigInt(BUFFER_SIZE));
    fd.testMdCheckRefs(proc.buffer, BUFFER_SIZE, 0);
    // Pinning needs whole pages and a mapping.
    expectErrno('ENOENT', () => fd.testAccessPages(access, iova, PAGE_SIZE, proc.buffer));
    fd.close();
  });
});

describe('bad input to the ioctls fails with the kernel errno and changes nothing', () => {
  it('IOAS map / unmap / copy / ranges / options', () => {
    const { proc, fd, ioas } = setup(1);
    const { buffer } = proc;
    // Flags are checked before the IOAS is looked up.
    expectErrno('EOPNOTSUPP', () => fd.ioasMap(999, 1 << 3, buffer, PAGE_SIZE));
    expectErrno('EINVAL', () => fd.ioasMap(ioas, 0, buffer, PAGE_SIZE));
    expectErrno('EOVERFLOW', () => fd.ioasMap(ioas, RW, buffer, U64_MAX));
    expectErrno('EOVERFLOW', () => fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, buffer, PAGE_SIZE, U64_MAX));
    expectErrno('ENOENT', () => fd.ioasMap(999, RW, buffer, PAGE_SIZE));
    expectErrno('EINVAL', () => fd.ioasMap(ioas, RW, buffer, 0));
    expectErrno('EINVAL', () => fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, buffer, PAGE_SIZE, MOCK_APERTURE_START + 1));
    // Outside the mock aperture is reserved.
    expectErrno('EINVAL', () => fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, buffer, PAGE_SIZE, 0));
    expectErrno('EINVAL', () => fd.ioasUnmap(ioas, MOCK_APERTURE_START, 0));
    expectErrno('EOVERFLOW', () => fd.ioasUnmap(ioas, U64_MAX, 1));
    expectErrno('EOVERFLOW', () => fd.ioasUnmap(ioas, 2, U64_MAX));
    expectErrno('EOPNOTSUPP', () => fd.ioasCopy({ flags: 1 << 3, srcIoasId: ioas, dstIoasId: ioas, srcIova: 0, length: 1 }));
    expectErrno('EINVAL', () => fd.ioasCopy({ flags: IOMMU_IOAS_MAP_FIXED_IOVA, srcIoasId: ioas, dstIoasId: ioas, srcIova: 0, length: 1 }));
    expectErrno('EINVAL', () => fd.ioasCopy({ flags: RW, srcIoasId: ioas, dstIoasId: ioas, srcIova: 0, length: 0 }));
    expectErrno('ENOENT', () => fd.ioasCopy({ flags: RW, srcIoasId: 999, dstIoasId: ioas, srcIova: 0, length: 1 }));
    expectErrno('EINVAL', () => fd.ioasAllowIovas(ioas, [{ start: 10, last: 10 }]));
    expectErrno('EINVAL', () =>
      fd.ioasAllowIovas(ioas, [
        { start: 0, last: 10 },
        { start: 5, last: 20 },
      ]),
    );
    expectErrno('EOPNOTSUPP', () => fd.option({ optionId: 7, op: 0, objectId: ioas, val64: 0 }));
    expectErrno('EOPNOTSUPP', () => fd.option({ optionId: 1, op: 5, objectId: ioas, val64: 0 }));
    expectErrno('ENOENT', () => fd.option({ optionId: 1, op: 1, objectId: 999, val64: 0 }));
    // A domain already holds mappings: large pages cannot be turned off now.
    fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, buffer, PAGE_SIZE, MOCK_APERTURE_START);
    expectErrno('EINVAL', () => fd.option({ optionId: 1, op: 0, objectId: ioas, val64: 0 }));
    expectErrno('EBUSY', () => fd.option({ optionId: 0, op: 0, objectId: 0, val64: 1 }));
    expectErrno('ENOENT', () => fd.destroy(999));
    expectErrno('EBUSY', () => fd.destroy(ioas));
    fd.testMdCheckRefs(buffer, PAGE_SIZE, 1);
    fd.close();
  });

  it('test commands', () => {
    const { proc, fd, ioas, ids } = setup(1);
    const { buffer } = proc;
    expectErrno('EINVAL', () => fd.testAddReserved(ioas, 0, 0));
    expectErrno('EOVERFLOW', () => fd.testAddReserved(ioas, U64_MAX, 2));
    expectErrno('ENOENT', () => fd.testAddReserved(999, 0, 1));
    expectErrno('EINVAL', () => fd.testSetTempMemoryLimit(11));
    expectErrno('EINVAL', () => fd.testMdCheckRefs(buffer + 1, PAGE_SIZE, 0));
    expectErrno('EFAULT', () => fd.testMdCheckRefs(0x1000, PAGE_SIZE, 0));
    expectErrno('EINVAL', () => fd.testMockDomain(ioas, 1 << 1));
    expectErrno('ENOENT', () => fd.testMockDomain(999));
    expectErrno('ENOENT', () => fd.testMockDomainReplace(ids[0]!.hwptId, ioas));
    expectErrno('EOPNOTSUPP', () => fd.testCreateAccess(ioas, 2));
    const plain = fd.testCreateAccess(ioas, 0);
    const iova = fd.ioasMap(ioas, RW | IOMMU_IOAS_MAP_FIXED_IOVA, buffer, PAGE_SIZE, MOCK_APERTURE_START);
    expectErrno('EOPNOTSUPP', () => fd.testAccessPages(plain, iova, PAGE_SIZE, buffer));
    const pin = fd.testCreateAccess(ioas, MOCK_FLAGS_ACCESS_CREATE_NEEDS_PIN_PAGES);
    expectErrno('ENOMEM', () => fd.testAccessPages(pin, iova, 16 * 1024 * 1024 + 1, buffer));
    expectErrno('EOPNOTSUPP', () => fd.testAccessPages(pin, iova, PAGE_SIZE, buffer, 2));
    expectErrno('EINVAL', () => fd.testAccessPages(pin, iova + 1n, PAGE_SIZE - 1, buffer));
    // The pages under the IOVA are not the ones at this user address.
    expectErrno('EBADE', () => fd.testAccessPages(pin, iova, PAGE_SIZE, buffer + PAGE_SIZE));
    expectErrno('ENOENT', () => fd.testAccessPages(pin, iova, 2 * PAGE_SIZE, buffer));
    expectErrno('EOPNOTSUPP', () => fd.testAccessRw(plain, iova, 8, buffer, 1 << 1));
    expectErrno('ENOENT', () => fd.testAccessRw(plain, iova, PAGE_SIZE + 1, buffer));
    expectErrno('ENOENT', () => fd.testDestroyAccessPages(pin, 42));
    fd.testMdCheckRefs(buffer, PAGE_SIZE, 1);
    fd.close();
    expect(proc.phys.totalPins()).toBe(0);
  });
});

describe('dma-buf imports', () => {
  it('map as MMIO into every domain, and a revoke unmaps them from all of them', () => {
    const { fd, ioas, ids } = setup(1);
    const dbuf = fd.testDmabufGet(PAGE_SIZE * 4);
    const iova = fd.ioasMapFile(ioas, RW, dbuf, 0, PAGE_SIZE * 4);
    const manual = fd.hwptAlloc({ devId: ids[0]!.idevId, ptId: ioas, flags: 0 });
    for (const id of [ids[0]!.hwptId, manual]) {
      const d = fd.objects.get<HwptPaging>(id).domain;
      expect(d.iovaToPhys(iova + 4100n)).toBe(BigInt(dbuf.pfn * PAGE_SIZE + 4100));
    }
    // Nothing is pinned for a dma-buf.
    expect(new Proc().phys.totalPins()).toBe(0);
    fd.testDmabufRevoke(dbuf, true);
    for (const id of [ids[0]!.hwptId, manual]) expect(fd.objects.get<HwptPaging>(id).domain.iovaToPhys(iova)).toBe(0n);
    // A domain added while revoked stays empty; unmapping the revoked area is fine.
    const late = fd.hwptAlloc({ devId: ids[0]!.idevId, ptId: ioas, flags: 0 });
    expect(fd.objects.get<HwptPaging>(late).domain.iovaToPhys(iova)).toBe(0n);
    expect(fd.ioasUnmap(ioas, iova, PAGE_SIZE * 4)).toBe(BigInt(PAGE_SIZE * 4));
    expect(dbuf.importers.size).toBe(0);
    expectErrno('EINVAL', () => fd.testDmabufGet(0));
    expectErrno('EINVAL', () => fd.testDmabufGet(PAGE_SIZE * 513));
    fd.close();
  });

  it('cannot be cut by a type1 unmap or read through an access', () => {
    const { fd, ioas } = setup(1);
    fd.vfioIoasOp(IOMMU_VFIO_IOAS_SET, ioas);
    fd.vfioSetIommu(VFIO_TYPE1_IOMMU);
    const dbuf = fd.testDmabufGet(PAGE_SIZE * 4);
    const iova = fd.ioasMapFile(ioas, RW, dbuf, 0, PAGE_SIZE * 4);
    expectErrno('EOPNOTSUPP', () => fd.vfioUnmapDma({ flags: 0, iova: iova + BigInt(PAGE_SIZE), size: PAGE_SIZE }));
    const access = fd.testCreateAccess(ioas, 0);
    const tmp = fd.current.mmap(PAGE_SIZE);
    expectErrno('EINVAL', () => fd.testAccessRw(access, iova, 16, tmp));
    fd.close();
  });
});

describe('user memory', () => {
  it('a long-term read pin of a private file page unshares it; later writes keep the pfn', () => {
    const phys = new PhysMemory();
    const mm = new Mm(phys);
    const file = new MemFile(phys, PAGE_SIZE);
    const shared = mm.mmap(PAGE_SIZE, { file });
    const priv = mm.mmap(PAGE_SIZE, { file, shared: false });
    expect(mm.getUserPage(priv)).toBe(mm.getUserPage(shared));
    const [pinned] = mm.pinUserPages(priv, 1, false);
    expect(pinned).not.toBe(mm.getUserPage(shared));
    mm.fill(priv, 16, 9);
    expect(mm.getUserPage(priv)).toBe(pinned);
    expect(mm.read(shared, 1)[0]).toBe(0);
  });

  it('hugetlb pages are contiguous compound pages; anonymous pages are not contiguous', () => {
    const phys = new PhysMemory();
    const mm = new Mm(phys);
    const huge = mm.mmap(HUGEPAGE_SIZE, { hugetlb: true, populate: true });
    expect(huge % HUGEPAGE_SIZE).toBe(0);
    const first = mm.getUserPage(huge);
    expect(mm.getUserPage(huge + HUGEPAGE_SIZE - PAGE_SIZE)).toBe(first + 511);
    expect(phys.page(first).compound).toBe(true);
    const anon = mm.mmap(2 * PAGE_SIZE);
    expect(mm.getUserPage(anon + PAGE_SIZE)).not.toBe(mm.getUserPage(anon) + 1);
  });

  it('pinning fails EFAULT on a hole and leaves nothing pinned', () => {
    const phys = new PhysMemory();
    const mm = new Mm(phys);
    const buf = mm.mmap(4 * PAGE_SIZE);
    mm.munmap(buf + 2 * PAGE_SIZE, PAGE_SIZE);
    expectErrno('EFAULT', () => mm.pinUserPages(buf, 4, true));
    expect(phys.totalPins()).toBe(0);
    expect(mm.pinUserPages(buf + 3 * PAGE_SIZE, 1, true)).toHaveLength(1);
  });
});

describe('io_pagetable', () => {
  it('spans merge touching ranges and report the holes between', () => {
    const l = new IntervalList<{ start: bigint; last: bigint }>();
    l.insert({ start: 10n, last: 19n });
    l.insert({ start: 20n, last: 29n });
    l.insert({ start: 40n, last: 49n });
    expect(spans([l], 0n, 100n)).toEqual([
      { isHole: true, start: 0n, last: 9n },
      { isHole: false, start: 10n, last: 29n },
      { isHole: true, start: 30n, last: 39n },
      { isHole: false, start: 40n, last: 49n },
      { isHole: true, start: 50n, last: 100n },
    ]);
  });

  it('allocated IOVA is never 0, keeps the address alignment up to a huge page, and runs out with ENOSPC', () => {
    const iopt = new IoPagetable();
    expect(iopt.allocIova(0x7e0000000000n, 4096n)).toBe(4096n);
    expect(iopt.allocIova(0x7e0000000000n, 0x5000n)).toBe(0x8000n);
    expect(iopt.allocIova(0x7e0000000800n, 0x1000n)).toBe(0x1800n);
    expect(iopt.allocIova(0n, 1n << 30n)).toBe(1n << 21n);
    iopt.reserveIova(0n, U64_MAX, null);
    expectErrno('ENOSPC', () => iopt.allocIova(0n, 4096n));
    expectErrno('EOVERFLOW', () => iopt.allocIova(0n, 0n));
  });
});
