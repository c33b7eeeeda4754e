/**
 * @genpt/kunit-port/golden: the golden-trace schema, session and replayer
 * without the vitest suites, for tools (the genpt CLI) that replay or write
 * traces outside a test runner.
 */
export * from './schema.js';
export * from './session.js';
export * from './replay.js';
export * from './registry.js';
export * from './decode.js';
export * from './dir.js';
