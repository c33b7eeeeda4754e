import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual(['level 1 leaf 0x1234400883', 'level 0 leaf 0x1234600803', 'aw 2 iova 0x40200123 -> 0x1234600123']);
});
