/**
 * `AttentionPool`: attention spread over several workers, each with its own
 * WebAssembly instance (Node worker_threads or Web Workers).
 * @packageDocumentation
 */
export { AttentionPool, type PoolOptions, type PoolShape, type PoolAttentionOptions, type PoolResult } from './pool.js';
