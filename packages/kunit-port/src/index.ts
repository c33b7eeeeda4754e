/**
 * @genpt/kunit-port: the Linux kernel's generic_pt kunit suites as functions
 * a format package calls from its own vitest files, and the golden-trace
 * replayer (the counterpart of the kernel's compare test).
 */
export * from './golden/schema.js';
export * from './golden/session.js';
export * from './golden/replay.js';
export * from './golden/registry.js';
export * from './golden/describe.js';
