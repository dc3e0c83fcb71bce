/** The error a pool call rejects with when the worker running it is lost. */

/**
 * A pool worker died, failed, or had to be stopped (a WebAssembly trap) while calls
 * were in flight on it. Every such call rejects with this error; the pool starts a
 * replacement from the same compiled module, and later calls run on it.
 */
export class PoolWorkerError extends Error {
  /** Index of the worker among the pool's `threads` (0-based). */
  readonly worker: number;

  /**
   * Made by the pool, not by callers.
   * @param worker the worker's index
   * @param cause what happened, as a phrase after "worker N"
   * @param replaced whether the pool is replacing the worker (false: it failed to start)
   * @param error the runtime's own error, if there was one (kept as `cause`)
   */
  constructor(worker: number, cause: string, replaced: boolean, error?: Error) {
    super(`wasm-attention: AttentionPool worker ${worker} ${cause}` +
      (replaced ? '; the calls in flight on it were rejected and the pool is replacing it' : ''),
    error === undefined ? undefined : { cause: error });
    this.name = 'PoolWorkerError';
    this.worker = worker;
  }
}
