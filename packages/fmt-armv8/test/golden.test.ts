import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { armv8 } from '../dist/index.js';

describeGoldenReplay(path.join(goldenDir, 'armv8'), goldenFormats(['armv8', armv8]));
