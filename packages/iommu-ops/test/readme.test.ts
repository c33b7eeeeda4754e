import path from 'node:path';
import { expect, it } from 'vitest';
import { runReadmeExample } from '../../../scripts/readme-example.js';

it('README example runs and prints what the README says', async () => {
  const out = await runReadmeExample(path.resolve(import.meta.dirname, '..'));
  expect(out).toEqual(['80234567', "200000 { start: '0x40000000', end: '0x401fffff', freelist: 0 }"]);
});

const dir = path.resolve(import.meta.dirname, '..');

it('README OA batch example (two calls, the batch full after the first) runs and prints what the README says', async () => {
  expect(await runReadmeExample(dir, 1)).toEqual([
    'unmapped c000, unpin 7000000+8000 9000000+4000 (full)',
    'unmapped 4000, unpin 7008000+4000',
  ]);
});

it('README preserve/restore example (an image of table memory restored in a new TableMemory) runs and prints what the README says', async () => {
  expect(await runReadmeExample(dir, 2)).toEqual(['4 80200123']);
});
