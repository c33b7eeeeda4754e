import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { x86_64 } from '../dist/index.js';

describeGoldenReplay(path.join(goldenDir, 'x86_64'), goldenFormats(['x86_64', x86_64]));
