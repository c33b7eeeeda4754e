import path from 'node:path';
import { describeGoldenReplay, goldenDir, goldenFormats } from '@genpt/kunit-port';
import { riscv64 } from '../dist/index.js';

// The traces name the format "riscv64"; the kernel's prefix is riscv_64.
describeGoldenReplay(path.join(goldenDir, 'riscv64'), goldenFormats(['riscv64', riscv64]));
