import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual(['top level 2 0x10000 -> 0x12345010', 'ttb 0x10000000000 tsz 24 tg 0 ps 2 sl0 1']);
});
