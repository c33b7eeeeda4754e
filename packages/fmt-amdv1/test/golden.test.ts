import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { amdv1 } from '../dist/index.js';

describeGoldenReplay(path.join(goldenDir, 'amdv1'), goldenFormats(['amdv1', amdv1]));
