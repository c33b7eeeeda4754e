/**
 * The demo's op script, chosen from what the table offers (its page sizes
 * and aperture) so it runs on any format. With 4 KiB and 2 MiB pages:
 * a 2 MiB range of 4 KiB pages (the OA's alignment allows nothing larger),
 * one 2 MiB page, 64 KiB that formats with contiguous entries map as one
 * entry, and one 1 GiB page; a device write; lookups; then unmaps, the first
 * of which empties a whole lower table, so the gather carries it to be freed.
 * Between them, the 2 MiB page is cut at its second small page and collapsed
 * back (hitless where the format allows; elsewhere the steps show
 * EOPNOTSUPP).
 */
import { IOMMU_READ, IOMMU_WRITE } from '@genpt/pt-core';
import type { GoldenInit } from '@genpt/golden';
import { hx } from './dump/units.js';
import type { OpStep } from './script.js';

export interface DemoPart {
  /** What this part shows, printed before its steps. */
  title: string;
  steps: OpStep[];
}

/** Page sizes (lg2) in a bitmap given as hex. */
export function pageSizes(bitmapHex: string): number[] {
  const bm = BigInt(bitmapHex);
  const out: number[] = [];
  for (let i = 0; i < 64; i++) if ((bm >> BigInt(i)) & 1n) out.push(i);
  return out;
}

export function demoScript(init: GoldenInit, hasDirty: boolean): DemoPart[] {
  const sizes = pageSizes(init.domainPgsizeBitmap ?? init.pgsizeBitmap!);
  const start = BigInt(init.apertureStart!);
  const end = BigInt(init.apertureEnd!);
  const small = sizes.includes(12) ? 12 : sizes[0]!;
  // The 2 MiB class: a lower table's worth of small pages.
  // Without a large page size (DART), still a whole lower table: 8-byte items, a granule per table.
  // With a larger granule (ARMv8 16/64 KiB) 2 MiB is a contiguous run inside
  // a lowest table, so the class is a level 1 item (32 MiB / 512 MiB).
  const level1 = small + (small - 3);
  const mid = small > 12 ? level1 : (sizes.find((s) => s >= 21 && s >= small + 4) ?? level1);
  const big = sizes.find((s) => s >= 30 && s > mid);
  const rw = IOMMU_READ | IOMMU_WRITE;
  const at = (v: bigint) => hx(start + v);
  const sz = (lg2: number) => 1n << BigInt(lg2);
  const S = sz(small);
  const M = sz(mid);
  const bigFits = big !== undefined && start + 2n * sz(big) - 1n <= end;

  // An OA the table can hold (DART v1 has 36 bits).
  const oaBase = (init.maxOaszLg2 ?? 52) >= 40 ? 0x1234400000n : 0x12340000n;
  const maps: OpStep[] = [
    // The OA is only small-page aligned, so every page is small.
    { op: 'map', iova: at(0n), paddr: hx(oaBase + S), len: hx(M), prot: rw },
    { op: 'map', iova: at(M), paddr: '0x40000000', len: hx(M), prot: IOMMU_READ },
    { op: 'map', iova: at(2n * M + 16n * S), paddr: hx(0x50000000n + 16n * S), len: hx(16n * S), prot: rw },
  ];
  if (bigFits) maps.push({ op: 'map', iova: at(sz(big)), paddr: '0x100000000', len: hx(sz(big)), prot: rw });

  const probes: OpStep[] = [];
  if (hasDirty) probes.push({ op: 'set_dirty', iova: at(S) });
  probes.push({ op: 'iova_to_phys', iova: at(S + 0x234n) });
  probes.push({ op: 'iova_to_phys', iova: at(M + 0x1000n) });
  probes.push({ op: 'iova_to_phys', iova: at(2n * M + 17n * S + 0x10n) });
  probes.push({ op: 'iova_to_phys', iova: at(3n * M) });

  // The 2M page cut at one small page: the leaf becomes a table of the
  // largest pieces on each side, hitlessly; collapse puts the leaf back.
  const cut: OpStep[] = [{ op: 'cut', iova: at(M + S) }];
  const collapse: OpStep[] = [{ op: 'collapse', iova: at(M), len: hx(M) }];

  // [0, 2M) is full of small pages: its table goes too. Unmap stops at a hole.
  const unmaps: OpStep[] = [{ op: 'unmap', iova: at(0n), len: hx(2n * M) }];
  if (bigFits) unmaps.push({ op: 'unmap', iova: at(sz(big!)), len: hx(sz(big!)) });

  return [
    { title: 'Map ranges of different page sizes', steps: maps },
    {
      title: hasDirty
        ? 'A device writes to the second page (set_dirty plays the hardware); look some addresses up'
        : 'Look some addresses up',
      steps: probes,
    },
    { title: 'The table', steps: [{ op: 'dump' }] },
    {
      title: `Cut the ${M >> 20n ? `${M >> 20n} MiB` : 'large'} page at its second small page (hitless: every address keeps translating)`,
      steps: cut,
    },
    { title: 'The table after the cut', steps: [{ op: 'dump' }] },
    { title: 'Collapse it back into one leaf: the table it needed is freed through the gather', steps: collapse },
    { title: 'The table after the collapse', steps: [{ op: 'dump' }] },
    { title: 'Unmap: the gather says what to invalidate and which table pages were freed', steps: unmaps },
    { title: 'The table afterwards', steps: [{ op: 'dump' }] },
    { title: 'Tear down', steps: [{ op: 'deinit' }] },
  ];
}
