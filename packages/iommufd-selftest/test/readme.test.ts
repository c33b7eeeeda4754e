import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual(['iova 0x1000000 pinned 16 leaf items 32', 'unmapped 65536n pinned 0']);
});
