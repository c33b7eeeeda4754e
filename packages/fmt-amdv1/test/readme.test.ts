import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

const dir = path.resolve(import.meta.dirname, '..');

it('README example runs and prints what the README says', async () => {
  expect(await runReadmeExample(dir)).toEqual(['0x7000000040017e01 covers 2 ^ 4 items']);
});

it('README example with iommu-ops (a v1 domain as the AMD driver makes it, growing its top) runs and prints what the README says', async () => {
  expect(await runReadmeExample(dir, 1)).toEqual([
    'DTE mode 3, root 0x10000000000',
    'change_top: mode 4, root 0x10000002000',
    'DTE mode 4, root 0x10000002000 iova 0x10000000123 -> 90000123',
    "200000 { start: '0x40000000', end: '0x401fffff', freelist: 0 }",
  ]);
});
