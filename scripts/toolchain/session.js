// The program every toolchain variant runs (scripts/toolchain-check.mjs puts
// an import/require header and a `print` in front of it). Plain JavaScript
// that is also valid TypeScript, so tsx and esbuild compile the same text.
// Every line it prints must be the same under every toolchain.
const RW = IOMMU_READ | IOMMU_WRITE;
const hex = (v) => `0x${v.toString(16)}`;
const text = (bytes) => new TextDecoder().decode(bytes);
const dmaLine = (what, r) =>
  r.ok
    ? `${what}: ok ${r.bytes}${r.data ? ` "${text(r.data)}"` : ''}`
    : `${what}: fault after ${r.bytes} at ${hex(r.fault.address)} flags ${hex(r.fault.flags)}`;

const { driver, hw, mem, tables } = createAmdIommuSystem();
const pagesAtBoot = tables.pagesInUse;

// A v1 (AMDv1) and a v2 (x86-64) domain: two formats, so two slots in use.
const dev1 = driver.probeDevice(0, 0x10); // 00:02.0
const dev2 = driver.probeDevice(0, 0x18); // 00:03.0
const v1 = driver.domainAllocPaging(dev1);
const v2 = driver.domainAllocPaging(dev2, IOMMU_HWPT_ALLOC_PASID);
v1.attachDev(dev1);
v2.attachDev(dev2);
print(`domains: ${v1.pdMode} id ${v1.id}, ${v2.pdMode} id ${v2.id}; v1 page sizes ${hex(v1.pgsizeBitmap)}`);

v1.map(0x100000, 0x80000000, 0x2000, RW); // two 4 KiB pages
v1.map(0x400000, 0x80100000, 0x10000, IOMMU_READ); // one 64 KiB contiguous entry, read-only
v1.map(0x40000000, 0x90000000, 0x200000, RW); // one 2 MiB leaf
v2.map(0x7f0000200000, 0xa0000000, 0x400000, RW); // two 2 MiB leaves
const slot1 = iommuPtSlot(v1.table.common.fmt);
const slot2 = iommuPtSlot(v2.table.common.fmt);
const distinct = ptIterSlots[slot1].ptEntryOps !== ptIterSlots[slot2].ptEntryOps;
print(`slots: ${ptIterSlots.length} iter slots; v1 in ${slot1}, v2 in ${slot2}; distinct code ${distinct}`);

for (const [d, iova] of [
  [v1, 0x101234],
  [v1, 0x40abcd],
  [v1, 0x401fffff],
  [v2, 0x7f00003fffff],
  [v2, 0x7f0000400000],
]) {
  print(`iova_to_phys ${d.pdMode} ${hex(iova)} -> ${hex(d.iovaToPhys(iova))}`);
}
print(`iova_to_phys v1 0x102000 (hole) -> ${hex(v1.iovaToPhys(0x102000))}`);

// DMA through the hardware model: a write across the two 4 KiB pages, read
// back by the device and straight from memory at the OA.
const msg = new TextEncoder().encode('genpt DMA');
print(dmaLine('dma write 00:02.0 0x100ffc', hw.dma(0x10, 0x100ffc, msg.length, true, msg)));
print(dmaLine('dma read  00:02.0 0x100ffc', hw.dma(0x10, 0x100ffc, msg.length, false)));
print(`memory at 0x80000ffc: "${text(mem.readBytes(0x80000ffc, msg.length))}"`);
print(dmaLine('dma write 00:02.0 0x400010 (read-only)', hw.dma(0x10, 0x400010, 4, true, msg)));
print(dmaLine('dma write 00:03.0 0x7f00003ffffc', hw.dma(0x18, 0x7f00003ffffc, 8, true, msg)));
print(dmaLine('dma read  00:03.0 0x7f00003ffffc', hw.dma(0x18, 0x7f00003ffffc, 8, false)));
print(dmaLine('dma read  00:03.0 0x101000 (not in its domain)', hw.dma(0x18, 0x101000, 4, false)));

try {
  v1.map(0x101000, 0x80005000, 0x1000, RW);
  print('map over a live page: no error');
} catch (e) {
  print(`map over a live page: ${e.name} ${e.code} (errno ${e.errno}) PtError ${isPtError(e, 'EADDRINUSE')}`);
}

print(`unmap v1 0x100000+0x2000 -> ${v1.unmap(0x100000, 0x2000)}`);
print(`unmap v1 0x40000000+0x1000 -> ${hex(v1.unmap(0x40000000, 0x1000))}`);
print(`unmap v2 0x7f0000200000+0x400000 -> ${hex(v2.unmap(0x7f0000200000, 0x400000))}`);
print(
  `commands: ${hw.commandLog
    .slice(-4)
    .map((c) => c.name)
    .join(', ')}`,
);
print(dmaLine('dma read  00:02.0 0x101000 (after unmap)', hw.dma(0x10, 0x101000, 4, false)));
print(dmaLine('dma read  00:03.0 0x7f0000200000 (after unmap)', hw.dma(0x18, 0x7f0000200000, 4, false)));
print(`iova_to_phys v1 0x101000 after unmap -> ${hex(v1.iovaToPhys(0x101000))}`);

for (const ev of driver.iommus[0].pollEvents()) print(`event: ${ev.message}`);
print(`stale translations: ${hw.staleHits.length}`);

driver.blockDevice(dev1);
driver.blockDevice(dev2);
v1.free();
v2.free();
print(`table pages left by the domains: ${tables.pagesInUse - pagesAtBoot}`);
