/**
 * The kernel's own C (Linux 7.0 generic_pt, production config, gcc 12 -O2)
 * calling the table's map_range/unmap_range directly, timed on a machine of
 * the same kind as genpt's CI (2 vCPU): avg / min ns per call.
 */
export interface KernelRow {
  format: 'amdv1' | 'x86_64';
  pgsizeLg2: number;
  pgcount: number;
  mapAvg: number;
  mapMin: number;
  unmapAvg: number;
  unmapMin: number;
}

export const KERNEL_REFERENCE: readonly KernelRow[] = [
  { format: 'amdv1', pgsizeLg2: 12, pgcount: 1, mapAvg: 35, mapMin: 30, unmapAvg: 38, unmapMin: 30 },
  { format: 'amdv1', pgsizeLg2: 12, pgcount: 256, mapAvg: 355, mapMin: 340, unmapAvg: 58, unmapMin: 50 },
  { format: 'amdv1', pgsizeLg2: 21, pgcount: 256, mapAvg: 345, mapMin: 330, unmapAvg: 54, unmapMin: 50 },
  { format: 'x86_64', pgsizeLg2: 12, pgcount: 1, mapAvg: 38, mapMin: 30, unmapAvg: 40, unmapMin: 30 },
  { format: 'x86_64', pgsizeLg2: 12, pgcount: 256, mapAvg: 400, mapMin: 390, unmapAvg: 244, unmapMin: 230 },
  { format: 'x86_64', pgsizeLg2: 21, pgcount: 256, mapAvg: 392, mapMin: 380, unmapAvg: 250, unmapMin: 240 },
];

/** The seed's own improvement of the minimum, per row (i7-12700, gcc 13.3): the targets. */
export const SEED_MIN_PERCENT: Readonly<Record<string, number>> = {
  'amdv1 map 12x1': 19,
  'amdv1 map 12x256': 79,
  'amdv1 map 21x256': 77,
  'amdv1 unmap 12x1': 23,
  'amdv1 unmap 12x256': 94,
  'amdv1 unmap 21x256': 93,
  'x86_64 map 12x1': 11,
  'x86_64 map 12x256': 72,
  'x86_64 map 21x256': 67,
  'x86_64 unmap 12x1': 4,
  'x86_64 unmap 12x256': 76,
  'x86_64 unmap 21x256': 65,
};

/**
 * ../shared/kernel-bench: one map_range + unmap_range pair, ns, from one
 * clock read around an untimed loop (median of three boots), keyed
 * "format config pgsizeLg2xpgcount".
 */
export const KERNEL_PAIR_NS: Readonly<Record<string, number>> = {
  'amdv1 host-l6 12x1': 48.6,
  'amdv1 host-l6 12x256': 351.4,
  'amdv1 host-l6 21x256': 333.9,
  'x86_64 amdv2-4 12x1': 58.9,
  'x86_64 amdv2-4 12x256': 665.3,
  'x86_64 amdv2-4 21x256': 748.2,
  'vtdss vtd-48 12x1': 54.0,
  'vtdss vtd-48 12x256': 641.9,
  'vtdss vtd-48 21x256': 721.3,
  'riscv64 sv48 12x1': 52.9,
  'riscv64 sv48 12x256': 1188.6,
  'riscv64 sv48 21x256': 1226.8,
};

/** ../shared/kernel-bench's iova_to_phys: ns per lookup in 1 GiB of leaves, keyed "format config leafLg2". */
export const KERNEL_IOVA_TO_PHYS_NS: Readonly<Record<string, number>> = {
  'amdv1 host-l6 12': 32.0,
  'amdv1 host-l6 21': 15.8,
  'x86_64 amdv2-4 12': 33.5,
  'x86_64 amdv2-4 21': 17.5,
};
