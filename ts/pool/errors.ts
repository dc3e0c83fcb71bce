/** The error a pool call rejects with when the worker running it is lost. */

/**
 * A pool worker died, failed, or had to be stopped (a WebAssembly trap) while calls
 * were in flight on it. Every such call rejects with this error; the pool starts a
 * replacement from the same compiled module, and later calls run on it.
 */
export class PoolWorkerError extends Error {
  /** Index of the worker among the pool's `threads` (0-based). */
  readonly worker: number;

  constructor(worker: number, cause: string, replaced: boolean) {
    super(`wasm-attention: AttentionPool worker ${worker} ${cause}` +
      (replaced ? '; the calls in flight on it were rejected and the pool is replacing it' : ''));
    this.name = 'PoolWorkerError';
    this.worker = worker;
  }
}
