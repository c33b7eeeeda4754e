/**
 * The in-repo golden copy is the kernel's traces, unchanged: compared with
 * ../shared/golden file by file when that folder is beside the repository,
 * and always checked for completeness and schema.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findGoldenFiles, goldenDir, goldenIoPgtableDir, loadGoldenTrace } from '@genpt/golden';

const shared = path.resolve(import.meta.dirname, '../../../../shared/golden');
const sharedIoPgtable = path.resolve(import.meta.dirname, '../../../../shared/golden-iopgtable');

describe('golden copy', () => {
  it('holds every trace the golden README lists, in the schema', () => {
    const files = findGoldenFiles(goldenDir);
    const readme = readFileSync(path.join(goldenDir, 'README.md'), 'utf8');
    const count = Number(/(\d+) files[.:]/.exec(readme)?.[1]);
    expect(files.length).toBe(count);
    for (const f of files) {
      const t = loadGoldenTrace(f);
      expect(path.basename(f)).toBe(`${t.name.replace('/', '--')}.json`);
      expect(path.basename(path.dirname(f))).toBe(t.format);
    }
  });

  it('is identical to ../shared/golden when that folder is present', () => {
    if (!existsSync(shared)) {
      // A clone on its own: nothing to compare with; the copy was checked above.
      expect(existsSync(goldenDir)).toBe(true);
      return;
    }
    const list = (d: string) => findGoldenFiles(d).map((f) => path.relative(d, f));
    expect(list(goldenDir)).toEqual(list(shared));
    for (const rel of list(shared)) {
      expect(readFileSync(path.join(goldenDir, rel), 'utf8'), rel).toBe(readFileSync(path.join(shared, rel), 'utf8'));
    }
    expect(readdirSync(goldenDir).sort()).toEqual(readdirSync(shared).sort());
  });

  it('holds the io-pgtable traces (lpae, armv7s), identical to ../shared/golden-iopgtable when present', () => {
    const list = (d: string) => findGoldenFiles(d).map((f) => path.relative(d, f));
    const ours = list(goldenIoPgtableDir);
    expect(ours.filter((f) => f.startsWith('armv7s')).length).toBe(15);
    expect(ours.filter((f) => f.startsWith('lpae')).length).toBe(15);
    for (const f of findGoldenFiles(goldenIoPgtableDir)) expect(loadGoldenTrace(f).schema).toBe('genpt-golden/1');
    if (!existsSync(sharedIoPgtable)) return;
    expect(ours).toEqual(list(sharedIoPgtable));
    for (const rel of ours) {
      expect(readFileSync(path.join(goldenIoPgtableDir, rel), 'utf8'), rel).toBe(readFileSync(path.join(sharedIoPgtable, rel), 'utf8'));
    }
  });
});
