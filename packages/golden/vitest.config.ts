import { genptVitestConfig } from '../../scripts/vitest-base.js';

export default genptVitestConfig();
