import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual(['0x80000000200060df covers 2 ^ 4 items']);
});
