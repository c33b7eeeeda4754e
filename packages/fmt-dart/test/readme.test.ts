import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual([
    'level 1 index 1 T 0x10000401',
    'level 0 index 0 L 0xfff0123400001',
    'level 0 index 1 L 0xfff0123400401',
    'granule 2^14, 1 TTBR; 0x2004123 -> 0x1234004123',
  ]);
});
