/** Options and shapes of {@link AttentionPool}. */
// eslint-disable-next-line @typescript-eslint/no-unused-vars -- the TSDoc {@link}s below resolve through it
import type { AttentionPool } from './pool.js';

/** Options of {@link AttentionPool.create}. */
export interface PoolOptions {
  /** Number of workers, at most 256. @defaultValue the number of logical processors (at most 256) */
  workers?: number;
  /**
   * Compiled module the workers instantiate (no compilation happens in them).
   * @defaultValue the module of this thread's `init()` (called if needed)
   */
  module?: WebAssembly.Module;
  /**
   * Browsers only: URL of the worker script (the bundle's `pool/worker.js`), for pages
   * whose Content-Security-Policy forbids `blob:` workers.
   * @defaultValue a Blob URL of the worker source embedded in the bundle
   */
  workerUrl?: string | URL;
  /**
   * Pass inputs and outputs through SharedArrayBuffers instead of transferring slices.
   * @defaultValue true where SharedArrayBuffer is usable (Node; pages with `crossOriginIsolated`)
   */
  shared?: boolean;
}

/** Sizes of a pool attention problem; arrays are contiguous `[B, H, L, D]`. */
export interface PoolShape {
  /** @defaultValue 1 */
  batch?: number;
  /** Query heads `Hq`. */
  headsQ: number;
  /** Key/value heads `Hkv` (a divisor of `Hq`). @defaultValue headsQ */
  headsKv?: number;
  /** Query rows `Lq`. */
  lenQ: number;
  /** Key rows `Lk`. @defaultValue lenQ */
  lenK?: number;
  /** Query/key size `D`. */
  headDim: number;
  /** Value size `Dv`. @defaultValue headDim */
  valueDim?: number;
}

/** Options of {@link AttentionPool.attention}: the library's attention options without masks. */
export interface PoolAttentionOptions {
  /** Bottom-right aligned causal mask (as `attention()`). @defaultValue false */
  causal?: boolean;
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
  /** Sliding window `[left, right]` (or `w` for `[w, w]`). */
  window?: number | readonly [number, number];
  /** Logit soft-cap. */
  softcap?: number;
  /** One ALiBi slope per query head. */
  alibiSlopes?: ArrayLike<number>;
  /** One sink logit per query head. */
  sinks?: ArrayLike<number>;
  /** Also return the per-row log-sum-exp `[B, Hq, Lq]`. @defaultValue false */
  returnLse?: boolean;
  /**
   * `'heads'` splits the `B·Hq` heads among workers; `'keys'` splits the keys and merges
   * the partial results by their log-sum-exp (for decoding: `Lq = 1`, long `Lk`).
   * `'auto'` picks `'keys'` for one query row and at least 512 keys per worker.
   * @defaultValue 'auto'
   */
  split?: 'auto' | 'heads' | 'keys';
  /**
   * Live keys per sequence (ragged batch, as flash-attention's `cache_seqlens`): `B`
   * integers in `[0, Lk]`. Sequence `b` attends to key/value rows `[0, seqLens[b])` of
   * `k [B, Hkv, Lk, D]` and `v` (later rows are ignored), with causal alignment, windows
   * and ALiBi distances counted from its own last key. @defaultValue every sequence has `Lk`
   */
  seqLens?: ArrayLike<number>;
}

/** Options of {@link AttentionPool.attend}: those of `KVCache.attend`, and how to split. */
export interface PoolCacheAttendOptions {
  /** Query rows `L_q` per sequence (the newest cached positions). @defaultValue 1 */
  lenQ?: number;
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
  /** Causal alignment of the queries (as `KVCache.attend`). @defaultValue true */
  causal?: boolean;
  /** Logit soft-cap. @defaultValue 0 (off) */
  softcap?: number;
  /** Also return the per-row log-sum-exp `[B, Hq, Lq]`. @defaultValue false */
  returnLse?: boolean;
  /** As {@link PoolAttentionOptions.split}. @defaultValue 'auto' */
  split?: 'auto' | 'heads' | 'keys';
}

/** Output of {@link AttentionPool.attention}: `[B, Hq, Lq, Dv]` and, on request, `[B, Hq, Lq]`. */
export interface PoolResult {
  /** The attention output, `[B, Hq, Lq, Dv]`, contiguous. */
  readonly out: Float32Array;
  /** The per-row log-sum-exp `[B, Hq, Lq]`, present with `returnLse: true`. */
  readonly lse?: Float32Array;
}
