import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual([
    'level 1 index 1 L 0x800b1c0e',
    'level 1 index 2 T 0x40004009',
    'level 0 index 0 L 0x80101c3d',
    'level 0 index 16 L 0x80110c7e',
    'ttbr attrs 0x6a, prrr 0x800b8204, nmrr 0x40004000; 0x210123 -> 0x80110123',
  ]);
});
