/**
 * A documented-internal accessor for tests of the pool under worker faults. Not part
 * of the API (it may change in any release): `pool[Symbol.for('wasm-attention.pool.internals')]()`.
 * It and the faults (faults.ts) exist only where `__POOL_FAULT_HOOKS__` is true: the unit
 * tests' build of ts/; the package build sets it false and drops them (scripts/bundle-plugins.mjs).
 * @internal
 */
import type { Fault } from './protocol.js';

/** The key of the accessor, a registered symbol so that tests of the bundle can name it. */
export const INTERNALS: unique symbol = Symbol.for('wasm-attention.pool.internals');

/** What the accessor returns. */
export interface PoolInternals {
  /** Terminates worker `w` as if it had died (its calls in flight reject; it is replaced). */
  terminate(w: number): void;
  /** Makes worker `w` suffer `fault` (see `Fault`). */
  inject(w: number, fault: Fault): void;
  /** How many workers slot `w` has started (1 until its first replacement). */
  generation(w: number): number;
  /** Workers running now, retiring ones included (0 after dispose). */
  live(): number;
  /** Resolves once every slot's current worker has started (or failed to). */
  settled(): Promise<void>;
}

/** Options of `AttentionPool.create` for tests, under the same symbol key. */
export interface InternalOptions {
  /** Node: each worker's JavaScript heap limit, so that a `heap` fault ends it quickly. */
  readonly heapLimitMb?: number;
}
