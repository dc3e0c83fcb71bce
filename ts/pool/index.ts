/**
 * `AttentionPool`: attention spread over several workers, each with its own
 * WebAssembly instance (Node worker_threads or Web Workers).
 * @packageDocumentation
 */
export { AttentionPool } from './pool.js';
export { PoolWorkerError } from './errors.js';
export type { PoolOptions, PoolShape, PoolAttentionOptions, PoolCacheAttendOptions, PoolResult } from './options.js';
