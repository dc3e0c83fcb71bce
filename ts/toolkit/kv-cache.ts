/**
 * A key/value cache for incremental decoding, preallocated in WASM memory.
 *
 * Layout: keys `[H_kv, maxLength, D]` and values `[H_kv, maxLength, D_v]`; the first
 * `length` rows of every head are live, oldest first. `attend` runs the fused kernel
 * straight on these buffers (head stride `maxLength·D`, row stride `D`, `L_k = length`),
 * so a decode step copies nothing but the new token's keys and values.
 *
 * A batched cache (`batch: B`) holds `B` sequences, `[B, H_kv, maxLength, D]`, each with
 * its own length (ragged, as flash-attention's `cache_seqlens`). Attending every sequence
 * at once issues one kernel call per run of adjacent sequences of equal length: the
 * pointers move to the run's first sequence and the batch stride steps over whole
 * sequences, so nothing is copied or padded.
 *
 * Storage dtype (`dtype`): float32, float16 or bfloat16 (rounded to nearest even on
 * `append`), or int8: each appended key/value row of each head is quantised
 * symmetrically with its own float32 scale (`max|x| / 127`). The decode kernel widens
 * elements in registers (int8: integer dot products of the codes with int16-rounded queries
 * and weights); nothing is converted back per step.
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
import { type CacheDType, dtypeArg, dtypeSize, type TensorDType } from '../dtype.js';
import { outArg, tensorArg } from '../ops/args.js';
import { callAttention, type Operand } from '../ops/attention-call.js';
import { KVStore } from './kv-store.js';
import * as raw from '../raw.js';

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
  /**
   * Sequences `B` held side by side, each with its own length. Calls without a
   * `sequence` option then take `[B, …]` tensors. @defaultValue 1
   */
  batch?: number;
}

/** Selects one sequence of a batched {@link KVCache}. */
export interface KVCacheSequenceOptions {
  /**
   * Index of the sequence in `[0, batch)`. @defaultValue undefined: every sequence
   * (an unbatched cache: its only one)
   */
  sequence?: number;
}

const CACHE_DTYPES: readonly CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];
const QUERY_DTYPES: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/** Options of {@link KVCache.attend}. */
export interface KVCacheAttendOptions extends KVCacheSequenceOptions {
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
  /**
   * Causal alignment of the queries: the last query row is the newest position. Turn it
   * off only when every query may see every cached row. @defaultValue true
   */
  causal?: boolean;
  /** Logit soft-capping `c·tanh(s / c)`. @defaultValue 0 (off) */
  softcap?: number;
  /** Where to write the output (`[H_q, L_q, D_v]`, or `[B, H_q, L_q, D_v]`). @defaultValue a new tensor */
  out?: Tensor;
}

/**
 * Most sequences one cache holds: each has its own length and position kept in JS and
 * walked by every call, so a bound far above any real batch keeps that bookkeeping small.
 */
const MAX_BATCH = 2 ** 20;

/** The checked append-then-attend of {@link decodeStep}, set by KVCache's static block (not part of the API). */
let step: (cache: KVCache, q: Tensor, k: Tensor, v: Tensor, options: DecodeStepOptions) => Tensor;

function disposedError(op: string): Error {
  return new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
}

/** Bytes of one side of the cache, or a RangeError naming the sizes when it cannot fit in WASM memory. */
function storeBytes(batch: number, heads: number, maxLength: number, width: number, name: string, dtype: CacheDType): number {
  const rows = batch * heads * maxLength;
  const bytes = rows * width * dtypeSize(dtype) + (dtype === 'int8' ? rows * 4 : 0);
  if (!(bytes <= raw.MAX_BYTES)) {
    throw new RangeError(`wasm-attention: KVCache: batch ${batch} × numKvHeads ${heads} × maxLength ${maxLength} × ` +
      `${name} ${width} (${dtype}) needs ${bytes} bytes, more than WASM's 4 GiB memory`);
  }
  return bytes;
}

function intArg(x: unknown, name: string, min: number): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < min) {
    throw new RangeError(`wasm-attention: KVCache: ${name} must be an integer ≥ ${min}, got ${describe(x)}`);
  }
  return x;
}

/**
 * Keys and values of the positions decoded so far, for one sequence or a batch of them.
 * Append each step's keys/values, then `attend` the step's queries. Owns WASM memory:
 * `dispose()`.
 */
export class KVCache {
  /** Sequences held. @defaultValue 1 */
  readonly batch: number;
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
  #lengths: number[];
  #positions: number[];

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
    this.batch = intArg(config.batch ?? 1, 'batch', 1);
    // Every size is checked before anything (JS arrays included) is allocated.
    const kBytes = storeBytes(this.batch, this.numKvHeads, this.maxLength, this.headDim, 'headDim', this.dtype);
    const vBytes = storeBytes(this.batch, this.numKvHeads, this.maxLength, this.valueDim, 'valueDim', this.dtype);
    if (kBytes + vBytes > raw.MAX_BYTES) {
      throw new RangeError(`wasm-attention: KVCache: keys and values need ${kBytes + vBytes} bytes together, more than WASM's 4 GiB memory`);
    }
    if (this.batch > MAX_BATCH) {
      throw new RangeError(`wasm-attention: KVCache: batch ${this.batch} exceeds ${MAX_BATCH} sequences`);
    }
    this.#lengths = new Array<number>(this.batch).fill(0);
    this.#positions = new Array<number>(this.batch).fill(0);
    this.#k = new KVStore(this.dtype, this.batch, this.numKvHeads, this.maxLength, this.headDim);
    try {
      this.#v = new KVStore(this.dtype, this.batch, this.numKvHeads, this.maxLength, this.valueDim);
    } catch (e) {
      this.#k.dispose();
      throw e;
    }
  }

  /** Bytes of WASM memory the keys and values (and int8 scales) occupy, for the full capacity. */
  get bytes(): number {
    return this.#k.bytes + this.#v.bytes;
  }

  /**
   * Rows held now (the keys a new query attends to). A batched cache: the longest
   * sequence's (see `lengths`).
   */
  get length(): number {
    return maxOf(this.#lengths);
  }

  /**
   * Positions appended in total (the absolute position of the next token, e.g. a RoPE
   * offset). A batched cache: the largest over its sequences (see `positions`).
   */
  get position(): number {
    return maxOf(this.#positions);
  }

  /** Rows held now by each sequence (a copy). */
  get lengths(): readonly number[] {
    return Object.freeze(this.#lengths.slice());
  }

  /** Positions appended to each sequence (a copy; each one's next RoPE offset). */
  get positions(): readonly number[] {
    return Object.freeze(this.#positions.slice());
  }

  /**
   * The key buffer `[H_kv, maxLength, D]` (batched: `[B, H_kv, maxLength, D]`) in the
   * cache's dtype (rows `≥ length` are stale; not for int8).
   */
  get keys(): Tensor<TensorDType> {
    return this.#k.tensor('keys');
  }

  /**
   * The value buffer `[H_kv, maxLength, D_v]` (batched: `[B, H_kv, maxLength, D_v]`) in the
   * cache's dtype (rows `≥ length` are stale; not for int8).
   */
  get values(): Tensor<TensorDType> {
    return this.#v.tensor('values');
  }

  /**
   * Appends `n` positions: `k [H_kv, n, D]`, `v [H_kv, n, D_v]` (or `[n, D]` / `[n, D_v]` with
   * one head) to the sequence `options.sequence`, or to every sequence of a batched cache
   * from `k [B, H_kv, n, D]`, `v [B, H_kv, n, D_v]`. Throws a RangeError when a full
   * sequence would overflow, or when a windowed one cannot hold `W − 1 + n` rows; then no
   * sequence changes.
   */
  append(k: Tensor, v: Tensor, options: KVCacheSequenceOptions = {}): this {
    this.#write(k, v, this.#planAppend(k, v, options, 'KVCache.append'));
    return this;
  }

  /** Checks an append and plans every sequence's shift (`keep`, or -1 for none) without changing anything. */
  #planAppend(k: Tensor, v: Tensor, options: KVCacheSequenceOptions, op: string): AppendPlan {
    if (this.#k.disposed) throw disposedError(op);
    tensorArg(k, op, 'k');
    tensorArg(v, op, 'v');
    const seqs = this.#sequences(options, op, k.rank === 4);
    const all = seqs.length > 1 || k.rank === 4;
    const D = this.headDim, Dv = this.valueDim, cap = this.maxLength;
    const n = this.#rowsOf(k, D, op, 'k', all);
    if (this.#rowsOf(v, Dv, op, 'v', all) !== n) {
      throw new RangeError(`wasm-attention: ${op}: k ${formatShape(k.shape)} and v ${formatShape(v.shape)} hold different numbers of positions`);
    }
    // Every sequence is checked (and its shift planned) before any changes.
    const keeps = seqs.map((s) => {
      const length = this.#lengths[s]!;
      if (length + n <= cap) return -1;
      if (this.window === undefined) {
        throw new RangeError(`wasm-attention: ${op}: ${this.#label(s)}${length} + ${n} positions exceed maxLength ${cap}`);
      }
      const keep = Math.min(length, this.window - 1);
      if (keep + n > cap) {
        throw new RangeError(`wasm-attention: ${op}: ${this.#label(s)}a window of ${this.window} needs ${keep} + ${n} rows, more than maxLength ${cap}`);
      }
      return keep;
    });
    return { seqs, keeps, n };
  }

  /** Appends `k`, `v` as planned by {@link KVCache.#planAppend}. */
  #write(k: Tensor, v: Tensor, { seqs, keeps, n }: AppendPlan): void {
    const op = 'KVCache.append', D = this.headDim, Dv = this.valueDim;
    const kBlock = this.numKvHeads * n * D * 4, vBlock = this.numKvHeads * n * Dv * 4;
    seqs.forEach((s, i) => {
      const keep = keeps[i]!;
      if (keep >= 0) {
        // Shift: the newest `keep` rows move to the front of every head of this sequence.
        const from = this.#lengths[s]! - keep;
        this.#k.shift(s, from, keep);
        this.#v.shift(s, from, keep);
        this.#lengths[s] = keep;
      }
      this.#k.write(s, k.ptr + i * kBlock, n, this.#lengths[s]!, op);
      this.#v.write(s, v.ptr + i * vBlock, n, this.#lengths[s]!, op);
      this.#lengths[s]! += n;
      this.#positions[s]! += n;
    });
  }

  /**
   * Rolls back to `n` rows (drops the newest `length − n`, e.g. rejected speculative tokens)
   * in the sequence `options.sequence`, or in every sequence (each must hold `n`).
   * `position` moves back by the same amount.
   */
  truncate(n: number, options: KVCacheSequenceOptions = {}): this {
    const op = 'KVCache.truncate';
    if (this.#k.disposed) throw disposedError(op);
    const seqs = this.#sequences(options, op);
    let max = Infinity;
    for (const s of seqs) max = Math.min(max, this.#lengths[s]!);
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) {
      throw new RangeError(`wasm-attention: KVCache.truncate: n must be an integer in [0, ${max}], got ${describe(n)}`);
    }
    for (const s of seqs) {
      this.#positions[s]! -= this.#lengths[s]! - n;
      this.#lengths[s] = n;
    }
    return this;
  }

  /** Empties the sequence `options.sequence`, or the whole cache (keeps its memory). */
  clear(options: KVCacheSequenceOptions = {}): this {
    if (this.#k.disposed) throw disposedError('KVCache.clear');
    const seqs = this.#sequences(options, 'KVCache.clear');
    for (const s of seqs) {
      this.#lengths[s] = 0;
      this.#positions[s] = 0;
    }
    if (seqs.length === this.batch) {
      this.#k.reset();
      this.#v.reset();
    }
    return this;
  }

  /**
   * Attention of `q [H_q, L_q, D]` (or `[L_q, D]`) against the cached rows of the sequence
   * `options.sequence`, which must already include the `L_q` query positions as their
   * newest rows: causal with the diagonal bottom-right aligned, grouped-query when
   * `H_q > H_kv`, windowed in window mode. Returns `[H_q, L_q, D_v]` (`[L_q, D_v]`).
   * Without `sequence`, a batched cache takes `q [B, H_q, L_q, D]` and attends every
   * sequence over its own length, returning `[B, H_q, L_q, D_v]`.
   */
  attend(q: Tensor<TensorDType>, options: KVCacheAttendOptions = {}): Tensor {
    const op = 'KVCache.attend';
    return this.#attend(q, options, this.#planQuery(q, options, op, (s) => this.#lengths[s]!), op);
  }

  static {
    step = (cache, q, k, v, options) => cache.#step(q, k, v, options);
  }

  /** {@link decodeStep}: checks k, v, q and every option first, so a rejected step appends nothing. */
  #step(q: Tensor, k: Tensor, v: Tensor, options: DecodeStepOptions): Tensor {
    const op = 'decodeStep';
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: ${op}: options must be an object, got ${describe(options)}`);
    }
    const add = this.#planAppend(k, v, { sequence: options.sequence }, op);
    // Lengths after the append (a windowed sequence may shift first).
    const after = (s: number) => {
      // The append addresses one sequence, or all of them in order.
      const i = add.seqs.length === 1 ? (s === add.seqs[0] ? 0 : -1) : s;
      return i < 0 ? this.#lengths[s]! : (add.keeps[i]! >= 0 ? add.keeps[i]! : this.#lengths[s]!) + add.n;
    };
    const plan = this.#planQuery(q, options, op, after);
    if (options.out !== undefined) outArg(options.out, [...q.shape.slice(0, -1), this.valueDim], op, { q: q as Tensor });
    this.#write(k, v, add);
    return this.#attend(q, options, plan, op);
  }

  /** Checks a query and the attend options against the sequences' lengths (`lengthOf`); changes nothing. */
  #planQuery(q: Tensor<TensorDType>, options: KVCacheAttendOptions, op: string, lengthOf: (s: number) => number): QueryPlan {
    if (this.#k.disposed) throw disposedError(op);
    tensorArg(q, op, 'q', QUERY_DTYPES);
    const seqs = this.#sequences(options, op, q.rank === 4);
    const Hkv = this.numKvHeads, D = this.headDim, B = this.batch;
    if (seqs.length > 1 || q.rank === 4) {
      if (q.rank !== 4 || q.shape[0] !== seqs.length || q.shape[3] !== D) {
        throw new RangeError(`wasm-attention: ${op}: q must be [${B}, H_q, L_q, ${D}] (every sequence; or pass { sequence }), got ${formatShape(q.shape)}`);
      }
    } else if ((q.rank !== 2 && q.rank !== 3) || q.shape[q.rank - 1] !== D) {
      throw new RangeError(`wasm-attention: ${op}: q must be [H_q, L_q, ${D}] or [L_q, ${D}], got ${formatShape(q.shape)}`);
    }
    const Hq = q.rank >= 3 ? q.shape[q.rank - 3]! : 1, Lq = q.shape[q.rank - 2]!;
    if (Hq % Hkv !== 0) {
      throw new RangeError(`wasm-attention: ${op}: query heads (${Hq}) must be a multiple of the cache's ${Hkv} key/value heads`);
    }
    for (const s of seqs) {
      if (Lq > lengthOf(s)) {
        throw new RangeError(`wasm-attention: ${op}: ${this.#label(s)}${Lq} query rows but only ${lengthOf(s)} cached positions (append first)`);
      }
    }
    const scale = options.scale ?? 1 / Math.sqrt(D);
    const softcap = options.softcap ?? 0;
    if (!Number.isFinite(scale) || !Number.isFinite(softcap) || softcap < 0) {
      throw new RangeError(`wasm-attention: ${op}: scale must be finite and softcap finite ≥ 0, got ${scale}, ${softcap}`);
    }
    const causal = options.causal ?? true;
    if (typeof causal !== 'boolean') throw new TypeError(`wasm-attention: ${op}: causal must be a boolean, got ${describe(causal)}`);
    return { seqs, Hq, Lq, scale, softcap, causal };
  }

  /** Runs a checked query (see {@link KVCache.#planQuery}). */
  #attend(q: Tensor<TensorDType>, options: KVCacheAttendOptions, plan: QueryPlan, op: string): Tensor {
    const { seqs, Hq, Lq, scale, softcap, causal } = plan;
    const Hkv = this.numKvHeads, D = this.headDim, Dv = this.valueDim;
    const out = outArg(options.out, [...q.shape.slice(0, -1), Dv], op, { q: q as Tensor });
    const qBlock = Hq * Lq * D * dtypeSize(q.dtype), outBlock = Hq * Lq * Dv * 4;
    try {
      // A run of adjacent sequences with one length is one call (batch = the run), so an
      // unragged batch is a single call. Within a call the kernel groups the query heads
      // that share a K/V head (decoding: one pass over each cached head per step) and
      // reads the cache in place.
      for (let i = 0; i < seqs.length;) {
        const s = seqs[i]!, Lk = this.#lengths[s]!;
        let j = i + 1;
        while (j < seqs.length && this.#lengths[seqs[j]!] === Lk) j++;
        const k = this.#k.operand(s), v = this.#v.operand(s);
        // Keys and values are widened by the same code: the fast float16 path only when both allow it.
        const finite = k.finite === true && v.finite === true;
        callAttention({
          scale, softcap, causal,
          window: this.window === undefined ? undefined : [this.window - 1, 0],
          dims: { batch: j - i, headsQ: Hq, headsKv: Hkv, lenQ: Lq, lenK: Lk, headDim: D, valueDim: Dv },
          q: { ptr: q.ptr + i * qBlock, strides: { batch: Hq * Lq * D, head: Lq * D, row: D }, dtype: q.dtype },
          k: { ...k, finite }, v: { ...v, finite },
        }, { ptr: out.ptr + i * outBlock, strides: { batch: Hq * Lq * Dv, head: Lq * Dv, row: Dv } });
        i = j;
      }
    } catch (e) {
      if (out !== options.out) out.dispose();
      throw e;
    }
    return out;
  }

  /** Whether `dispose()` has been called. */
  get disposed(): boolean {
    return this.#k.disposed;
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

  /**
   * A planned model's append: `n` positions of one-sequence keys and values already in
   * WASM memory as contiguous float32 `[H_kv, n, D]` / `[H_kv, n, D_v]` blocks at byte
   * offsets `kPtr`, `vPtr` (the caller owns them and has checked their extent). The same
   * capacity rules and window shift as {@link append}; nothing changes on a rejection.
   * @internal
   */
  appendRows(kPtr: number, vPtr: number, n: number): void {
    const op = 'KVCache.append';
    if (this.#k.disposed) throw new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
    if (this.batch !== 1) throw new RangeError(`wasm-attention: ${op}: a planned append takes a one-sequence cache`);
    const cap = this.maxLength;
    let length = this.#lengths[0]!;
    if (length + n > cap) {
      if (this.window === undefined) throw new RangeError(`wasm-attention: ${op}: ${length} + ${n} positions exceed maxLength ${cap}`);
      const keep = Math.min(length, this.window - 1);
      if (keep + n > cap) throw new RangeError(`wasm-attention: ${op}: a window of ${this.window} needs ${keep} + ${n} rows, more than maxLength ${cap}`);
      this.#k.shift(0, length - keep, keep);
      this.#v.shift(0, length - keep, keep);
      length = keep;
    }
    this.#k.write(0, kPtr, n, length, op);
    this.#v.write(0, vPtr, n, length, op);
    this.#lengths[0] = length + n;
    this.#positions[0]! += n;
  }

  /**
   * A planned model's attention: the `Lq` newest cached positions' queries read from
   * `q` (float32, any row/head strides, e.g. columns of a fused q|k|v buffer), written
   * to `out` (any strides, e.g. heads side by side in `[Lq, H_q·D_v]`). Causal with the
   * diagonal bottom-right aligned, windowed in window mode, grouped-query. `coldKv`: the
   * cache comes from memory, not cache (a model's layer, evicted by the other layers).
   * @internal
   */
  attendRows(q: Operand, Hq: number, Lq: number, out: Operand, scale: number, coldKv = false): void {
    const op = 'KVCache.attend';
    if (this.#k.disposed) throw new Error(`wasm-attention: ${op}: KVCache used after dispose()`);
    const Lk = this.#lengths[0]!;
    if (Lq > Lk || Hq % this.numKvHeads !== 0) {
      throw new RangeError(`wasm-attention: ${op}: ${Hq} query heads × ${Lq} rows against ${this.numKvHeads} heads × ${Lk} cached rows`);
    }
    const k = this.#k.operand(0), v = this.#v.operand(0);
    const finite = k.finite === true && v.finite === true;
    callAttention({
      scale, softcap: 0, causal: true, coldKv,
      window: this.window === undefined ? undefined : [this.window - 1, 0],
      dims: { batch: 1, headsQ: Hq, headsKv: this.numKvHeads, lenQ: Lq, lenK: Lk, headDim: this.headDim, valueDim: this.valueDim },
      q, k: { ...k, finite }, v: { ...v, finite },
    }, out);
  }

  /**
   * Live rows `[starts[b], lengths[b])` of every sequence as float32 (16-bit rows widened,
   * int8 rows dequantised): `keys [B, H_kv, extent, D]`, `values [B, H_kv, extent, D_v]`,
   * where `extent` is the most rows any sequence gives; shorter sequences are zero-padded.
   * For handing a cache to other WASM instances (the pool's workers).
   * @internal
   */
  readRows(starts: readonly number[]): { keys: Float32Array; values: Float32Array; extent: number } {
    if (this.#k.disposed) throw disposedError('KVCache read');
    const Hkv = this.numKvHeads, D = this.headDim, Dv = this.valueDim;
    let extent = 0;
    for (let b = 0; b < this.batch; b++) extent = Math.max(extent, this.#lengths[b]! - starts[b]!);
    const keys = new Float32Array(this.batch * Hkv * extent * D);
    const values = new Float32Array(this.batch * Hkv * extent * Dv);
    for (let b = 0; b < this.batch; b++) {
      this.#k.read(b, starts[b]!, this.#lengths[b]!, keys, b * Hkv * extent * D, extent);
      this.#v.read(b, starts[b]!, this.#lengths[b]!, values, b * Hkv * extent * Dv, extent);
    }
    return { keys, values, extent };
  }

  /**
   * The sequences a call addresses: `options.sequence` (checked), else all of them. A
   * batched cache given no sequence, or a `[B, …]` tensor (`batchedShape`), means all.
   */
  #sequences(options: KVCacheSequenceOptions, op: string, batchedShape = false): number[] {
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: ${op}: options must be an object, got ${describe(options)}`);
    }
    const s = options.sequence;
    if (s === undefined) return Array.from({ length: this.batch }, (_, b) => b);
    if (typeof s !== 'number' || !Number.isInteger(s) || s < 0 || s >= this.batch) {
      throw new RangeError(`wasm-attention: ${op}: sequence must be an integer in [0, ${this.batch}), got ${describe(s)}`);
    }
    if (batchedShape) {
      throw new RangeError(`wasm-attention: ${op}: with { sequence } tensors are one sequence's ([H, n, D]), not [B, H, n, D]`);
    }
    return [s];
  }

  /** `'sequence s: '` in errors of a batched cache, nothing otherwise. */
  #label(s: number): string {
    return this.batch === 1 ? '' : `sequence ${s}: `;
  }

  /** Rows `n` of `t`: `[H_kv, n, W]` (`[n, W]` with one head), or `[B, H_kv, n, W]` when `all`. */
  #rowsOf(t: Tensor, width: number, op: string, name: string, all: boolean): number {
    const Hkv = this.numKvHeads, B = this.batch;
    if (all) {
      if (t.rank !== 4 || t.shape[0] !== B || t.shape[1] !== Hkv || t.shape[3] !== width) {
        throw new RangeError(`wasm-attention: ${op}: ${name} must be [${B}, ${Hkv}, n, ${width}] (every sequence; or pass { sequence }), got ${formatShape(t.shape)}`);
      }
      return t.shape[2]!;
    }
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
 * into `options.out` when given, so a loop allocates nothing). `options.sequence` picks
 * the sequence of a batched cache for both; without it a batched cache takes
 * `[B, H, 1, D]` tensors and steps every sequence.
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
  return step(cache, q, k, v, options);
}

/** A checked append: the sequences, each one's planned shift (rows kept, -1: none) and the rows added. */
interface AppendPlan { seqs: number[]; keeps: number[]; n: number }

/** A checked query of {@link KVCache.attend}. */
interface QueryPlan { seqs: number[]; Hq: number; Lq: number; scale: number; softcap: number; causal: boolean }

/** Largest entry, without spreading a possibly huge array into arguments. */
function maxOf(a: readonly number[]): number {
  let m = a[0]!;
  for (let i = 1; i < a.length; i++) if (a[i]! > m) m = a[i]!;
  return m;
}
