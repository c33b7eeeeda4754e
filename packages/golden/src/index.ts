/**
 * @genpt/golden: the kernel's golden traces, their schema, the session that
 * drives a table step by step, the replayer and the dump decoder; no test
 * runner (kunit-port has the vitest suites built on it).
 */
export * from './schema.js';
export * from './session.js';
export * from './replay.js';
export * from './registry.js';
export * from './decode.js';
export * from './dir.js';
export * from './io-pgtable-v7s.js';
