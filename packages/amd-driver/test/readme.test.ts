import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README session runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual([
    '80001000 ff7ffffff000',
    'true hello',
    '8192 INVALIDATE_IOMMU_PAGES + COMPLETION_WAIT',
    'false Event logged [IO_PAGE_FAULT device=0000:00:02.0 domain=0x0001 address=0x101000 flags=0x0000]',
  ]);
});
