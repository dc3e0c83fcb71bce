/**
 * A key/value cache for incremental decoding, preallocated in WASM memory.
 *
 * Layout: keys `[H_kv, maxLength, D]` and values `[H_kv, maxLength, D_v]`; the first
 * `length` rows of every head are live, oldest first. `attend` runs the fused kernel
 * straight on these buffers (head stride `maxLength·D`, row stride `D`, `L_k = length`),
 * so a decode step copies nothing but the new token's keys and values.
 *
 * Storage dtype (`dtype`): float32, float16 or bfloat16 (rounded to nearest even on
 * `append`), or int8: each appended key/value row of each head is quantised
 * symmetrically with its own float32 scale (`max|x| / 127`). The decode kernel widens
 * or dequantises elements in registers; nothing is converted back per step.
 *
 * Sliding-window mode (`window: W`) keeps the positions a windowed query can still see.
 * It shifts rather than wraps: the rows stay in order (so causal alignment, windows and
 * ALiBi distances keep their meaning), and when an append would overflow `maxLength`
 * the last `W − 1` rows move to the front first. One shift copies `(W − 1)·(D + D_v)`
 * floats per head and happens once every `maxLength − W + 1` tokens, so choose
 * `maxLength ≥ 2·W` to keep its amortised cost below one row per token.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { type CacheDType, dtypeArg, type TensorDType } from '../dtype.js';
import { outArg, tensorArg } from '../ops/args.js';
import { callAttention } from '../ops/attention-call.js';
import { KVStore } from './kv-store.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/** Sizes of a {@link KVCache}. */
export interface KVCacheConfig {
  /** Rows the cache holds per head (its capacity). */
  maxLength: number;
  /** Key/value heads `H_kv`. */
  numKvHeads: number;
  /** Key (and query) head size `D`. */
  headDim: number;
  /** Value head size `D_v`. @defaultValue headDim */
  valueDim?: number;
  /**
   * Sliding window `W`: every query sees itself and the `W − 1` positions before it;
   * older rows are dropped. `W ≤ maxLength`. @defaultValue undefined (no window: appends
   * beyond `maxLength` throw)
   */
  window?: number;
  /**
   * Storage dtype of keys and values: `'float16'` / `'bfloat16'` halve the bytes,
   * `'int8'` quarters them (plus one float32 scale per row and head). @defaultValue 'float32'
   */
  dtype?: CacheDType;
}

const CACHE_DTYPES: readonly CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];
const QUERY_DTYPES: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/** Options of {@link KVCache.attend}. */
export interface KVCacheAttendOptions {
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
  /**
   * Causal alignment of the queries: the last query row is the newest position. Turn it
   * off only when every query may see every cached row. @defaultValue true
   */
  causal?: boolean;
  /** Logit soft-capping `c·tanh(s / c)`. @defaultValue 0 (off) */
  softcap?: number;
  /** Where to write the `[H_q, L_q, D_v]` output. @defaultValue a new tensor */
  out?: Tensor;
}

function intArg(x: unknown, name: string, min: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    throw new RangeError(`wasm-attention: KVCache: ${name} must be an integer ≥ ${min}, got ${describe(x)}`);
  }
  return x;
}

/**
 * Keys and values of the positions decoded so far, for one sequence. Append each
 * step's keys/values, then `attend` the step's queries. Owns WASM memory: `dispose()`.
 */
export class KVCache {
  /** Capacity in rows per head. */
  readonly maxLength: number;
  /** Key/value heads. */
  readonly numKvHeads: number;
  /** Key head size. */
  readonly headDim: number;
  /** Value head size. @defaultValue headDim */
  readonly valueDim: number;
  /** Sliding window, or `undefined` for a full cache. @defaultValue undefined */
  readonly window: number | undefined;
  /** Storage dtype of keys and values. @defaultValue 'float32' */
  readonly dtype: CacheDType;
  #k: KVStore;
  #v: KVStore;
  #length = 0;
  #position = 0;

  /** Allocates the key and value buffers for `config.maxLength` positions. */
  constructor(config: KVCacheConfig) {
    if (config == null || typeof config !== 'object') {
      throw new TypeError(`wasm-attention: KVCache expects { maxLength, numKvHeads, headDim }, got ${describe(config)}`);
    }
    this.maxLength = intArg(config.maxLength, 'maxLength', 1);
    this.numKvHeads = intArg(config.numKvHeads, 'numKvHeads', 1);
    this.headDim = intArg(config.headDim, 'headDim', 1);
    this.valueDim = intArg(config.valueDim ?? this.headDim, 'valueDim', 1);
    if (config.window !== undefined) {
      this.window = intArg(config.window, 'window', 1);
      if (this.window > this.maxLength) {
        throw new RangeError(`wasm-attention: KVCache: window (${this.window}) must not exceed maxLength (${this.maxLength})`);
      }
    }
    this.dtype = config.dtype === undefined ? 'float32' : dtypeArg(config.dtype, CACHE_DTYPES, 'KVCache');
    this.#k = new KVStore(this.dtype, this.numKvHeads, this.maxLength, this.headDim);
    try {
      this.#v = new KVStore(this.dtype, this.numKvHeads, this.maxLength, this.valueDim);
    } catch (e) {
      this.#k.dispose();
      throw e;
    }
  }

  /** Bytes of WASM memory the keys and values (and int8 scales) occupy, for the full capacity. */
  get bytes(): number {
    return this.#k.bytes + this.#v.bytes;
  }

  /** Rows held now (the keys a new query attends to). */
  get length(): number {
    return this.#length;
  }

  /** Positions appended in total (the absolute position of the next token, e.g. a RoPE offset). */
  get position(): number {
    return this.#position;
  }

  /** The key buffer `[H_kv, maxLength, D]` in the cache's dtype (rows `≥ length` are stale; not for int8). */
  get keys(): Tensor<TensorDType> {
    return this.#k.tensor('keys');
  }

  /** The value buffer `[H_kv, maxLength, D_v]` in the cache's dtype (rows `≥ length` are stale; not for int8). */
  get values(): Tensor<TensorDType> {
    return this.#v.tensor('values');
  }

  /**
   * Appends `n` positions: `k [H_kv, n, D]`, `v [H_kv, n, D_v]` (or `[n, D]` / `[n, D_v]` with
   * one head). Throws a RangeError when a full cache would overflow, or when a windowed
   * cache cannot hold `W − 1 + n` rows.
   */
  append(k: Tensor, v: Tensor): this {
    const op = 'KVCache.append';
    tensorArg(k, op, 'k');
    tensorArg(v, op, 'v');
    const Hkv = this.numKvHeads, D = this.headDim, Dv = this.valueDim, cap = this.maxLength;
    const n = this.#rowsOf(k, D, op, 'k');
    if (this.#rowsOf(v, Dv, op, 'v') !== n) {
      throw new RangeError(`wasm-attention: ${op}: k ${formatShape(k.shape)} and v ${formatShape(v.shape)} hold different numbers of positions`);
    }
    if (this.#k.disposed) throw new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
    if (this.#length + n > cap) {
      if (this.window === undefined) {
        throw new RangeError(`wasm-attention: ${op}: ${this.#length} + ${n} positions exceed maxLength ${cap}`);
      }
      const keep = Math.min(this.#length, this.window - 1);
      if (keep + n > cap) {
        throw new RangeError(`wasm-attention: ${op}: a window of ${this.window} needs ${keep} + ${n} rows, more than maxLength ${cap}`);
      }
      // Shift: the newest `keep` rows move to the front of every head.
      const from = this.#length - keep;
      this.#k.shift(from, keep);
      this.#v.shift(from, keep);
      this.#length = keep;
    }
    this.#k.write(k.ptr, n, this.#length, op);
    this.#v.write(v.ptr, n, this.#length, op);
    this.#length += n;
    this.#position += n;
    return this;
  }

  /**
   * Rolls back to `n` rows (drops the newest `length − n`, e.g. rejected speculative tokens).
   * `position` moves back by the same amount.
   */
  truncate(n: number): this {
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > this.#length) {
      throw new RangeError(`wasm-attention: KVCache.truncate: n must be an integer in [0, ${this.#length}], got ${describe(n)}`);
    }
    this.#position -= this.#length - n;
    this.#length = n;
    return this;
  }

  /** Empties the cache (keeps its memory). */
  clear(): this {
    this.#length = 0;
    this.#position = 0;
    this.#k.reset();
    this.#v.reset();
    return this;
  }

  /**
   * Attention of `q [H_q, L_q, D]` (or `[L_q, D]`) against the cached rows, which must
   * already include the `L_q` query positions as their newest rows: causal with the
   * diagonal bottom-right aligned, grouped-query when `H_q > H_kv`, windowed in window
   * mode. Returns `[H_q, L_q, D_v]` (`[L_q, D_v]`).
   */
  attend(q: Tensor<TensorDType>, options: KVCacheAttendOptions = {}): Tensor {
    const op = 'KVCache.attend';
    tensorArg(q, op, 'q', QUERY_DTYPES);
    if (this.#k.disposed) throw new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
    const Hkv = this.numKvHeads, D = this.headDim, Dv = this.valueDim;
    if ((q.rank !== 2 && q.rank !== 3) || q.shape[q.rank - 1] !== D) {
      throw new RangeError(`wasm-attention: ${op}: q must be [H_q, L_q, ${D}] or [L_q, ${D}], got ${formatShape(q.shape)}`);
    }
    const Hq = q.rank === 3 ? q.shape[0]! : 1, Lq = q.shape[q.rank - 2]!;
    if (Hq % Hkv !== 0) {
      throw new RangeError(`wasm-attention: ${op}: query heads (${Hq}) must be a multiple of the cache's ${Hkv} key/value heads`);
    }
    if (Lq > this.#length) {
      throw new RangeError(`wasm-attention: ${op}: ${Lq} query rows but only ${this.#length} cached positions (append first)`);
    }
    const scale = options.scale ?? 1 / Math.sqrt(D);
    const softcap = options.softcap ?? 0;
    if (!Number.isFinite(scale) || !Number.isFinite(softcap) || softcap < 0) {
      throw new RangeError(`wasm-attention: ${op}: scale must be finite and softcap finite ≥ 0, got ${scale}, ${softcap}`);
    }
    const causal = options.causal ?? true;
    const out = outArg(options.out, [...q.shape.slice(0, -1), Dv], op, { q: q as Tensor });
    const Lk = this.#length;
    const k = this.#k.operand(), v = this.#v.operand();
    // Keys and values are widened by the same code: the fast float16 path only when both allow it.
    const finite = k.finite === true && v.finite === true;
    try {
      // One call for every query head: the kernel groups the heads that share a K/V head
      // (decoding: one pass over each cached head per step) and reads the cache in place.
      callAttention({
        scale, softcap, causal,
        window: this.window === undefined ? undefined : [this.window - 1, 0],
        dims: { batch: 1, headsQ: Hq, headsKv: Hkv, lenQ: Lq, lenK: Lk, headDim: D, valueDim: Dv },
        q: { ptr: q.ptr, strides: { batch: Hq * Lq * D, head: Lq * D, row: D }, dtype: q.dtype },
        k: { ...k, finite }, v: { ...v, finite },
      }, { ptr: out.ptr, strides: { batch: Hq * Lq * Dv, head: Lq * Dv, row: Dv } });
    } catch (e) {
      if (out !== options.out) out.dispose();
      throw e;
    }
    return out;
  }

  /** Frees both buffers. Calling it twice does nothing. */
  dispose(): void {
    this.#k.dispose();
    this.#v.dispose();
  }

  /** The same as `dispose()`, for `using` declarations. */
  [disposeSymbol](): void {
    this.dispose();
  }

  #rowsOf(t: Tensor, width: number, op: string, name: string): number {
    const Hkv = this.numKvHeads;
    const ok = t.shape[t.rank - 1] === width &&
      ((t.rank === 3 && t.shape[0] === Hkv) || (t.rank === 2 && Hkv === 1));
    if (!ok) {
      throw new RangeError(`wasm-attention: ${op}: ${name} must be [${Hkv}, n, ${width}]${Hkv === 1 ? ` or [n, ${width}]` : ''}, got ${formatShape(t.shape)}`);
    }
    return t.shape[t.rank - 2]!;
  }
}

/** Options of {@link decodeStep}. */
export type DecodeStepOptions = KVCacheAttendOptions;

/**
 * One decoding step: appends the new position's `k [H_kv, 1, D]` and `v [H_kv, 1, D_v]`,
 * then attends `q [H_q, 1, D]` over the whole cache. Returns `[H_q, 1, D_v]` (written
 * into `options.out` when given, so a loop allocates nothing).
 *
 * @example
 * A step at `L_k = 4096`, `H_q = 32`, `H_kv = 8`, `D = 128`:
 * ```js
 * const cache = new KVCache({ maxLength: 4096, numKvHeads: 8, headDim: 128 });
 * cache.append(Tensor.zeros([8, 4095, 128]), Tensor.zeros([8, 4095, 128])); // the prompt
 * const q = Tensor.zeros([32, 1, 128]), k = Tensor.zeros([8, 1, 128]), v = Tensor.zeros([8, 1, 128]);
 * const out = Tensor.empty([32, 1, 128]);
 * // per step: decodeStep(cache, q, k, v, { out }); cache.truncate(4095);
 * ```
 */
export function decodeStep(cache: KVCache, q: Tensor, k: Tensor, v: Tensor, options: DecodeStepOptions = {}): Tensor {
  if (!(cache instanceof KVCache)) {
    throw new TypeError(`wasm-attention: decodeStep: cache must be a KVCache, got ${describe(cache)}`);
  }
  return cache.append(k, v).attend(q, options);
}
