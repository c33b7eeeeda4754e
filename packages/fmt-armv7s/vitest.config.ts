import { genptVitestConfig } from '../../scripts/vitest-base.js';

// Verbose: list every kunit case per config, as the kernel's kunit output does.
export default genptVitestConfig({ verbose: true, testTimeout: 300_000 });
