/**
 * Shared vitest settings: built packages (any packages/<name>/dist) load as
 * native ES modules instead of through vite's module runner, so tests run
 * the code as it ships and at its real speed (the runner's import proxies
 * cost more than the page table code itself in hot loops).
 */
import { defineConfig, type ViteUserConfig } from 'vitest/config';

export function genptVitestConfig(extra: { verbose?: boolean; testTimeout?: number } = {}): ViteUserConfig {
  return defineConfig({
    test: {
      include: ['test/**/*.test.ts'],
      server: { deps: { external: [/\/node_modules\//, /\/packages\/[^/]+\/dist\//] } },
      ...(extra.verbose ? { reporters: ['verbose'] } : {}),
      testTimeout: extra.testTimeout ?? 60_000,
    },
  });
}
