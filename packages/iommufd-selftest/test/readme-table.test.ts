/**
 * The README's table of C tests agrees with the ported test files: every
 * "yes" row has its TEST_F, every "no" row has none, and no TEST_F is
 * missing from the table.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';

const dir = path.resolve(import.meta.dirname, '..');
const files: Record<string, string> = {
  iommufd_ioas: 'iommufd-ioas.test.ts',
  iommufd_mock_domain: 'iommufd-mock-domain.test.ts',
  iommufd_dirty_tracking: 'iommufd-dirty-tracking.test.ts',
  vfio_compat_mock_domain: 'vfio-compat-mock-domain.test.ts',
};

it('README table matches the ported TEST_Fs', () => {
  const readme = readFileSync(path.join(dir, 'README.md'), 'utf8');
  const rows = [...readme.matchAll(/^\| (\w+) \| (\w+) \| (yes|\*\*no\*\*) \|/gm)].map((m) => ({
    fixture: m[1]!,
    test: m[2]!,
    ported: m[3] === 'yes',
  }));
  // iommufd.c (Linux 7.0) has 27 + 7 + 6 + 5 tests in these fixtures.
  expect(rows).toHaveLength(45);
  for (const [fixture, file] of Object.entries(files)) {
    const src = readFileSync(path.join(dir, 'test', file), 'utf8');
    const ported = new Set([...src.matchAll(/^TEST_F\(\s*'(\w+)'/gm)].map((m) => m[1]!));
    const mine = rows.filter((r) => r.fixture === fixture);
    expect(
      mine
        .filter((r) => r.ported)
        .map((r) => r.test)
        .sort(),
    ).toEqual([...ported].sort());
  }
});
