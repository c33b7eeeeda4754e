/** The kernel's own traces of the mock format, replayed bit for bit. */
import path from 'node:path';
import {
  describeGoldenReplay,
  findGoldenFiles,
  goldenDir,
  goldenFormats,
  loadGoldenTrace,
  replayTrace,
  summarize,
} from '@genpt/kunit-port';
import { describe, expect, it } from 'vitest';
import { iommuMock } from '../dist/index.js';

const formats = goldenFormats(['mock', iommuMock]);
describeGoldenReplay(path.join(goldenDir, 'mock'), formats);

describe('the shared golden folder, as `genpt golden` reads it', () => {
  it('replays every mock trace with none failed or skipped', () => {
    const files = findGoldenFiles(path.join(goldenDir, 'mock'));
    const outcomes = files.map((file) => ({ ...replayTrace(loadGoldenTrace(file), formats), file }));
    expect(files.length).toBeGreaterThanOrEqual(16);
    expect(summarize(outcomes)).toBe(`${files.length} passed, 0 failed, 0 skipped`);
  });

  it('runs both configs of the kernel trace set', () => {
    const names = findGoldenFiles(path.join(goldenDir, 'mock')).map((f) => loadGoldenTrace(f));
    expect(new Set(names.map((t) => t.format))).toEqual(new Set(['mock']));
    expect(new Set(names.map((t) => t.name.split('/')[0]))).toEqual(new Set(['selftest', 'dyntop']));
  });
});
