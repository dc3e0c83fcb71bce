/**
 * Multi-head attention with the semantics of PyTorch's `nn.MultiheadAttention`
 * (`batch_first=True`, inference: no dropout), plus grouped-query heads.
 *
 * Algorithm of `forward`:
 * 1. Project on the GEMM: `Q = x·W_qᵀ + b_q`, `K = c·W_kᵀ + b_k`, `V = c·W_vᵀ + b_v`
 *    (`c` = context, `x` itself for self-attention). For self-attention with
 *    `kdim = vdim = embedDim` the three weights are stored as one `[E + 2·E_kv, E]`
 *    block, so a single GEMM writes `[B·L, E + 2·E_kv]` rows holding q | k | v.
 * 2. Heads are never split by copying: head `h` of Q is columns `[h·D, (h+1)·D)` of
 *    those rows, so the fused kernel reads it with head stride `D` and row stride
 *    = the width of the projection buffer. It writes the context in `[B, L, H·D]`
 *    (head stride `D`, row stride `E`) — already "concatenated".
 *    With `rotary`, RoPE rotates the q and k column ranges in place between the projection
 *    and the kernel (as LLaMA-family attention does), so rotated heads are never copied.
 * 3. `out = context·W_oᵀ + b_o`.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { matmul } from '../ops/matmul.js';
import { type RowWeight, tensorWeight } from '../ops/linear.js';
import type { Vec } from './block.js';
import { tensorArg } from '../ops/args.js';
import * as raw from '../raw.js';
import { callAttention, callAttentionProbs, type Operand, type ScoreOptions } from '../ops/attention-call.js';
import { type MaskInput, resolveMask } from '../ops/mask.js';
import { addBiasRows, disposeAll, floatsArg, linearInto } from './common.js';
import { planRope, rotateRows, type RopeOptions } from './rope.js';

const disposeSymbol: typeof Symbol.dispose =
  (Symbol as { dispose?: typeof Symbol.dispose }).dispose ?? (Symbol.for('Symbol.dispose') as typeof Symbol.dispose);

/** Sizes of a {@link MultiHeadAttention}. */
export interface MultiHeadAttentionConfig {
  /** Model width `E` (size of the query input and of the output). */
  embedDim: number;
  /** Query heads `H`; `E` must be a multiple of it. Head size `D = E / H`. */
  numHeads: number;
  /**
   * Key/value heads for grouped-query (`1 < H_kv < H`) or multi-query (`H_kv = 1`)
   * attention; `H` must be a multiple of it. K and V projections have `E_kv = H_kv·D` rows.
   * @defaultValue numHeads
   */
  numKvHeads?: number;
  /** Size of the key input (context). @defaultValue embedDim */
  kdim?: number;
  /** Size of the value input. @defaultValue kdim */
  vdim?: number;
  /** Whether the input and output projections have biases. @defaultValue true */
  bias?: boolean;
  /**
   * Append learned `bias_k`/`bias_v` as one more key/value position of every sequence
   * (PyTorch's `add_bias_kv`). @defaultValue false
   */
  addBiasKv?: boolean;
  /** Append an all-zero key/value position after that (PyTorch's `add_zero_attn`). @defaultValue false */
  addZeroAttn?: boolean;
}

/**
 * Weights in PyTorch's layout. A `Linear` weight is `[out, in]` (`y = x·Wᵀ + b`), row-major.
 * Give either `inProjWeight` or all three of `qProjWeight`, `kProjWeight`, `vProjWeight`.
 */
export interface MultiHeadAttentionWeights {
  /**
   * `[E + 2·E_kv, E]`: the rows of `W_q`, then `W_k`, then `W_v` (PyTorch's `in_proj_weight`).
   * Only when `kdim = vdim = embedDim`.
   * @defaultValue undefined (then the three separate weights are required)
   */
  inProjWeight?: ArrayLike<number>;
  /** `[E, E]` (PyTorch's `q_proj_weight`). @defaultValue undefined (use inProjWeight) */
  qProjWeight?: ArrayLike<number>;
  /** `[E_kv, kdim]` (PyTorch's `k_proj_weight`). @defaultValue undefined (use inProjWeight) */
  kProjWeight?: ArrayLike<number>;
  /** `[E_kv, vdim]` (PyTorch's `v_proj_weight`). @defaultValue undefined (use inProjWeight) */
  vProjWeight?: ArrayLike<number>;
  /** `[E + 2·E_kv]`: `b_q`, `b_k`, `b_v`. Required when `bias` is true. @defaultValue undefined */
  inProjBias?: ArrayLike<number>;
  /** `[E, E]` (PyTorch's `out_proj.weight`). */
  outProjWeight: ArrayLike<number>;
  /** `[E]` (PyTorch's `out_proj.bias`). Required when `bias` is true. @defaultValue undefined */
  outProjBias?: ArrayLike<number>;
  /** `[E_kv]` (PyTorch's `bias_k`). Required with `addBiasKv`. @defaultValue undefined */
  biasK?: ArrayLike<number>;
  /** `[E_kv]` (PyTorch's `bias_v`). Required with `addBiasKv`. @defaultValue undefined */
  biasV?: ArrayLike<number>;
}

/** Options of {@link MultiHeadAttention.forward}. */
export interface MultiHeadAttentionForwardOptions {
  /** Key input (cross-attention), `[B, S, kdim]` (or `[S, kdim]`). @defaultValue x (self-attention) */
  context?: Tensor;
  /** Value input, `[B, S, vdim]`. @defaultValue context */
  value?: Tensor;
  /**
   * Block future keys. With `S ≠ L` the diagonal is bottom-right aligned (query `i` sees
   * keys `j ≤ i + S − L`), unlike PyTorch's top-left `is_causal`; equal for self-attention.
   * @defaultValue false
   */
  causal?: boolean;
  /**
   * Extra mask broadcastable to `[B, H, L, S]`: an additive float Tensor (`-Infinity`
   * blocks) or `{ attend, shape }` booleans where **true = may attend** (the library's
   * convention; PyTorch's boolean `attn_mask` means the opposite).
   * @defaultValue none
   */
  mask?: MaskInput;
  /**
   * `B·S` flags, `[B, S]` row-major (`[S]` unbatched): **true (non-zero) = padding, ignore
   * this key** (PyTorch's `key_padding_mask`). Rows whose every key is blocked give 0, not NaN.
   * @defaultValue none
   */
  keyPaddingMask?: ArrayLike<boolean | number>;
  /**
   * Rotary position embedding of the projected queries and keys, per head, before the
   * scores (self-attention only; `headDim` is the module's). Positions count the rows of
   * each sequence from `offset` unless given. As Hugging Face's `apply_rotary_pos_emb`
   * inside `LlamaAttention` (style `'half'`), or ONNX `Attention` after `RotaryEmbedding`.
   * @defaultValue no rotation
   */
  rotary?: Omit<RopeOptions, 'headDim'>;
  /** Also return the attention weights. @defaultValue false */
  needWeights?: boolean;
  /**
   * With `needWeights`: average the weights over heads (`[B, L, S]`) or return them per
   * head (`[B, H, L, S]`), as PyTorch's `average_attn_weights`. @defaultValue true
   */
  averageWeights?: boolean;
}

/** Output of `forward` with `needWeights: true`. */
export interface MultiHeadAttentionOutput {
  /** `[B, L, E]` (`[L, E]` unbatched). */
  readonly out: Tensor;
  /** `[B, L, S]` averaged or `[B, H, L, S]` per head (without `B` when unbatched). */
  readonly weights: Tensor;
}

function positiveInt(x: unknown, name: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 1) {
    throw new RangeError(`wasm-attention: MultiHeadAttention: ${name} must be a positive integer, got ${describe(x)}`);
  }
  return x;
}

/**
 * `nn.MultiheadAttention(embedDim, numHeads, bias, kdim, vdim, batch_first=True)` for
 * inference, with optional grouped-query heads. Holds its weights in WASM memory:
 * call `dispose()` (or `using`) when done.
 */
export class MultiHeadAttention {
  /** Model width `E`. */
  readonly embedDim: number;
  /** Query heads `H`. */
  readonly numHeads: number;
  /** Key/value heads `H_kv`. @defaultValue numHeads */
  readonly numKvHeads: number;
  /** Head size `D = E / H`. */
  readonly headDim: number;
  /** Key input size. @defaultValue embedDim */
  readonly kdim: number;
  /** Value input size. @defaultValue kdim */
  readonly vdim: number;
  /** Whether the projections have biases. @defaultValue true */
  readonly bias: boolean;
  /** PyTorch's `add_bias_kv`. @defaultValue false */
  readonly addBiasKv: boolean;
  /** PyTorch's `add_zero_attn`. @defaultValue false */
  readonly addZeroAttn: boolean;
  /** `[W_q; W_k; W_v]` rows in one block (`[E + 2·E_kv, E]` when kdim = vdim = E). */
  #inW: Tensor | null = null;
  #inB: Tensor | null = null;
  #outW: Tensor | null = null;
  #outB: Tensor | null = null;
  /** `bias_k` and `bias_v` (copied into the extra key/value row of each call). */
  #biasKv: [Float32Array, Float32Array] | null = null;

  /** Checks the configuration; no memory is held until {@link MultiHeadAttention.loadWeights}. */
  constructor(config: MultiHeadAttentionConfig) {
    if (config == null || typeof config !== 'object') {
      throw new TypeError(`wasm-attention: MultiHeadAttention expects { embedDim, numHeads, ... }, got ${describe(config)}`);
    }
    this.embedDim = positiveInt(config.embedDim, 'embedDim');
    this.numHeads = positiveInt(config.numHeads, 'numHeads');
    this.numKvHeads = positiveInt(config.numKvHeads ?? this.numHeads, 'numKvHeads');
    this.kdim = positiveInt(config.kdim ?? this.embedDim, 'kdim');
    this.vdim = positiveInt(config.vdim ?? this.kdim, 'vdim');
    this.bias = config.bias ?? true;
    this.addBiasKv = config.addBiasKv === true;
    this.addZeroAttn = config.addZeroAttn === true;
    if (this.embedDim % this.numHeads !== 0) {
      throw new RangeError(`wasm-attention: MultiHeadAttention: embedDim (${this.embedDim}) must be a multiple of numHeads (${this.numHeads})`);
    }
    if (this.numHeads % this.numKvHeads !== 0) {
      throw new RangeError(`wasm-attention: MultiHeadAttention: numHeads (${this.numHeads}) must be a multiple of numKvHeads (${this.numKvHeads})`);
    }
    this.headDim = this.embedDim / this.numHeads;
  }

  /** `E_kv = H_kv · D`: rows of the key and of the value projection. */
  get kvDim(): number {
    return this.numKvHeads * this.headDim;
  }

  /** Whether the three input projections form PyTorch's packed `in_proj_weight`. */
  get packed(): boolean {
    return this.kdim === this.embedDim && this.vdim === this.embedDim;
  }

  /** Whether weights are loaded (and not disposed). */
  get loaded(): boolean {
    return this.#inW !== null;
  }

  /** Copies weights (see {@link MultiHeadAttentionWeights} for layouts) into WASM memory, replacing earlier ones. */
  loadWeights(weights: MultiHeadAttentionWeights): this {
    const op = 'MultiHeadAttention.loadWeights';
    const E = this.embedDim, Ekv = this.kvDim;
    const qSize = E * E, kSize = Ekv * this.kdim, vSize = Ekv * this.vdim;
    if (weights == null || typeof weights !== 'object') {
      throw new TypeError(`wasm-attention: ${op} expects a weights object, got ${describe(weights)}`);
    }
    if ((qSize + kSize + vSize) * 4 > raw.MAX_BYTES) {
      throw new RangeError(`wasm-attention: ${op}: the input projections hold ${qSize + kSize + vSize} floats, more than WASM's 4 GiB memory`);
    }
    const inW = new Float32Array(qSize + kSize + vSize);
    if (weights.inProjWeight !== undefined) {
      if (!this.packed) {
        throw new RangeError(`wasm-attention: ${op}: inProjWeight needs kdim = vdim = embedDim (${E}); ` +
          `give qProjWeight, kProjWeight and vProjWeight for kdim ${this.kdim}, vdim ${this.vdim}`);
      }
      inW.set(floatsArg(weights.inProjWeight, inW.length, op, `inProjWeight [${E + 2 * Ekv}, ${E}]`));
    } else {
      inW.set(floatsArg(weights.qProjWeight, qSize, op, `qProjWeight [${E}, ${E}]`), 0);
      inW.set(floatsArg(weights.kProjWeight, kSize, op, `kProjWeight [${Ekv}, ${this.kdim}]`), qSize);
      inW.set(floatsArg(weights.vProjWeight, vSize, op, `vProjWeight [${Ekv}, ${this.vdim}]`), qSize + kSize);
    }
    // Everything is copied out before the first allocation: a Tensor argument is read
    // through a view of WASM memory, which growth would detach.
    const outW = Float32Array.from(floatsArg(weights.outProjWeight, E * E, op, `outProjWeight [${E}, ${E}]`));
    let inB: Float32Array | null = null, outB: Float32Array | null = null;
    if (this.bias) {
      inB = Float32Array.from(floatsArg(weights.inProjBias, E + 2 * Ekv, op, `inProjBias [${E + 2 * Ekv}]`));
      outB = Float32Array.from(floatsArg(weights.outProjBias, E, op, `outProjBias [${E}]`));
    } else if (weights.inProjBias !== undefined || weights.outProjBias !== undefined) {
      throw new TypeError(`wasm-attention: ${op}: biases given to a MultiHeadAttention built with bias: false`);
    }
    let biasKv: [Float32Array, Float32Array] | null = null;
    if (this.addBiasKv) {
      biasKv = [Float32Array.from(floatsArg(weights.biasK, Ekv, op, `biasK [${Ekv}]`)),
        Float32Array.from(floatsArg(weights.biasV, Ekv, op, `biasV [${Ekv}]`))];
    } else if (weights.biasK !== undefined || weights.biasV !== undefined) {
      throw new TypeError(`wasm-attention: ${op}: biasK/biasV given to a MultiHeadAttention built without addBiasKv`);
    }
    // The new weights replace the old ones only once all are allocated, so a failed
    // allocation leaves the module as it was.
    const made: Tensor[] = [];
    const put = (data: Float32Array, shape: number[]) => { const t = Tensor.from(data, shape); made.push(t); return t; };
    let next: [Tensor, Tensor, Tensor | null, Tensor | null];
    try {
      next = [put(inW, [inW.length]), put(outW, [E, E]), inB && put(inB, [E + 2 * Ekv]), outB && put(outB, [E])];
    } catch (e) {
      disposeAll(...made);
      throw e;
    }
    this.dispose();
    this.#biasKv = biasKv;
    [this.#inW, this.#outW, this.#inB, this.#outB] = next;
    return this;
  }

  /**
   * Attention of `x` (`[B, L, E]` or `[L, E]`) over `context` (default `x`):
   * `out = concat_h(softmax(Q_h·K_hᵀ/√D + mask)·V_h)·W_oᵀ + b_o`, shape like `x`.
   * With `needWeights`, also the attention weights.
   */
  forward(x: Tensor, options: MultiHeadAttentionForwardOptions & { needWeights: true }): MultiHeadAttentionOutput;
  forward(x: Tensor, options?: MultiHeadAttentionForwardOptions): Tensor;
  forward(x: Tensor, options: MultiHeadAttentionForwardOptions = {}): Tensor | MultiHeadAttentionOutput {
    const op = 'MultiHeadAttention.forward';
    if (options == null || typeof options !== 'object') {
      throw new TypeError(`wasm-attention: ${op}: options must be an object, got ${describe(options)}`);
    }
    const inW = this.#inW, outW = this.#outW;
    if (inW === null || outW === null) throw new Error(`wasm-attention: ${op}: call loadWeights() first (or it was disposed)`);
    const E = this.embedDim, Ekv = this.kvDim, H = this.numHeads, Hkv = this.numKvHeads, D = this.headDim;
    const self = options.context === undefined && options.value === undefined;
    const ctx = options.context ?? x, val = options.value ?? ctx;
    const [B, L] = this.#rows(x, E, op, 'x', x.rank);
    const [Bk, S] = this.#rows(ctx, this.kdim, op, 'context', x.rank);
    const [Bv, Sv] = this.#rows(val, this.vdim, op, 'value', x.rank);
    if (Bk !== B || Bv !== B || Sv !== S) {
      throw new RangeError(`wasm-attention: ${op}: batch/length mismatch: x ${formatShape(x.shape)}, ` +
        `context ${formatShape(ctx.shape)}, value ${formatShape(val.shape)}`);
    }
    // Options are checked (and RoPE planned) before anything is allocated; padding flags
    // given as a view of WASM memory are copied, since allocating may grow memory.
    if (options.rotary !== undefined && !self) {
      throw new RangeError(`wasm-attention: ${op}: rotary applies to self-attention only (no context/value)`);
    }
    if ((this.addBiasKv || this.addZeroAttn) && options.causal === true) {
      throw new RangeError(`wasm-attention: ${op}: causal with addBiasKv/addZeroAttn is ambiguous (the extra keys have no position); give a mask instead`);
    }
    const rope = options.rotary === undefined ? null : planRope({ ...options.rotary, headDim: D }, L, E, D, op);
    if (options.keyPaddingMask !== undefined) {
      options = { ...options, keyPaddingMask: raw.stableSource(options.keyPaddingMask, `${op}: keyPaddingMask`) };
    }
    const temps: Tensor[] = [];
    let out: Tensor | null = null;
    try {
      // 1. Projections into row buffers; q, k, v are column ranges [col, col + width) of them.
      let qBuf: Tensor, kBuf: Tensor, vBuf: Tensor, kCol = 0, vCol = 0;
      const qCol = 0; // q starts its buffer in every layout
      const inB = this.#inB;
      const kOff = E * E, vOff = kOff + Ekv * this.kdim;
      if (self && this.packed) {
        const W = E + 2 * Ekv;
        qBuf = kBuf = vBuf = Tensor.empty([B * L, W]);
        temps.push(qBuf);
        linearInto(x.ptr, E, B * L, E, inW.ptr, W, qBuf.ptr, W, op);
        if (inB) addBiasRows(qBuf.ptr >>> 2, B * L, W, W, inB);
        kCol = E;
        vCol = E + Ekv;
      } else {
        qBuf = Tensor.empty([B * L, E]);
        temps.push(qBuf);
        kBuf = vBuf = Tensor.empty([B * S, 2 * Ekv]);
        temps.push(kBuf);
        vCol = Ekv;
        linearInto(x.ptr, E, B * L, E, inW.ptr, E, qBuf.ptr, E, op);
        linearInto(ctx.ptr, this.kdim, B * S, this.kdim, inW.ptr + kOff * 4, Ekv, kBuf.ptr, 2 * Ekv, op);
        linearInto(val.ptr, this.vdim, B * S, this.vdim, inW.ptr + vOff * 4, Ekv, kBuf.ptr + Ekv * 4, 2 * Ekv, op);
        if (inB) {
          addBiasRows(qBuf.ptr >>> 2, B * L, E, E, inB, 0);
          addBiasRows(kBuf.ptr >>> 2, B * S, 2 * Ekv, 2 * Ekv, inB, E);
        }
      }
      if (rope !== null) {
        rotateRows(rope, (qBuf.ptr >>> 2) + qCol, B * L, E, L, qBuf.shape[1]!);
        rotateRows(rope, (kBuf.ptr >>> 2) + kCol, B * S, Ekv, S, kBuf.shape[1]!);
      }
      // PyTorch's add_bias_kv / add_zero_attn: S grows by one key/value row each, appended to
      // every sequence after the projections (and their biases); masks gain 0 (attend) columns.
      const extra = (this.addBiasKv ? 1 : 0) + (this.addZeroAttn ? 1 : 0);
      const Sk = S + extra;
      if (extra > 0) {
        const kv = Tensor.empty([B * Sk, 2 * Ekv]);
        temps.push(kv);
        const src = kBuf.data, dst = kv.data, w = kBuf.shape[1]!;
        for (let b = 0; b < B; b++) {
          for (let j = 0; j < S; j++) {
            const from = (b * S + j) * w, to = (b * Sk + j) * 2 * Ekv;
            dst.set(src.subarray(from + kCol, from + kCol + Ekv), to);
            dst.set(src.subarray(from + vCol, from + vCol + Ekv), to + Ekv);
          }
          let row = (b * Sk + S) * 2 * Ekv;
          if (this.#biasKv) {
            dst.set(this.#biasKv[0], row);
            dst.set(this.#biasKv[1], row + Ekv);
            row += 2 * Ekv;
          }
          if (this.addZeroAttn) dst.fill(0, row, row + 2 * Ekv);
        }
        kBuf = vBuf = kv;
        kCol = 0;
        vCol = Ekv;
      }
      // 2. Strided heads: [b, h, i, :] of q lives at qBuf[(b·L + i)·width + col + h·D].
      const strided = (buf: Tensor, col: number, rows: number): Operand => {
        const width = buf.shape[1]!;
        return { ptr: buf.ptr + col * 4, strides: { batch: rows * width, head: D, row: width } };
      };
      const mask = widenMask(this.#mask(options, B, L, S, op, temps), B, H, L, S, Sk, temps);
      const score: ScoreOptions = { scale: 1 / Math.sqrt(D), causal: options.causal === true, mask: mask ?? undefined };
      const dims = { batch: B, headsQ: H, headsKv: Hkv, lenQ: L, lenK: Sk, headDim: D, valueDim: D };
      const call = { ...score, dims, q: strided(qBuf, qCol, L), k: strided(kBuf, kCol, Sk), v: strided(vBuf, vCol, Sk) };
      const batched = x.rank === 3;
      const context = Tensor.empty(batched ? [B, L, E] : [L, E]);
      temps.push(context);
      const lse = options.needWeights ? Tensor.empty([B, H, L]) : null;
      if (lse) temps.push(lse);
      callAttention(call, { ptr: context.ptr, strides: { batch: L * E, head: D, row: E } }, lse ? lse.ptr : 0);
      // 3. Output projection.
      out = matmul(context, outW, { transposeB: true });
      if (this.#outB) addBiasRows(out.ptr >>> 2, B * L, E, E, this.#outB);
      if (!options.needWeights) return out;
      const weights = Tensor.empty(batched ? [B, H, L, Sk] : [H, L, Sk]);
      try {
        callAttentionProbs(call, 0, L, weights.ptr, lse!.ptr);
      } catch (e) {
        weights.dispose();
        throw e;
      }
      return { out, weights: options.averageWeights === false ? weights : averageHeads(weights, B, H, L, Sk, batched) };
    } catch (e) {
      out?.dispose();
      throw e;
    } finally {
      disposeAll(...temps);
    }
  }

  /**
   * The projections as one transformer block reads them in place (q | k | v rows of one
   * `[E + 2·E_kv, E]` weight), or null when this module's attention is not such a block's:
   * not loaded, context/value widths other than `embedDim`, or PyTorch's
   * `add_bias_kv`/`add_zero_attn` keys. Valid until the weights are reloaded or disposed. @internal
   */
  blockProjections(): { qkv: RowWeight; qkvBias: Tensor | null; out: RowWeight; outBias: Tensor | null } | null {
    if (!this.packed || this.addBiasKv || this.addZeroAttn || this.#inW === null || this.#outW === null) return null;
    const E = this.embedDim;
    return { qkv: tensorWeight(this.#inW, [E + 2 * this.kvDim, E]), qkvBias: this.#inB, out: tensorWeight(this.#outW),
      outBias: this.#outB };
  }

  /**
   * The projections of a cross-attention sub-layer of a transformer block: q's rows
   * `[E, E]`, the keys' and values' rows `[2·E_kv, kdim]` (one weight, read in place, as
   * the context is both the keys' and the values' input), or null when not such a
   * sub-layer's: not loaded, `kdim ≠ vdim`, or `add_bias_kv`/`add_zero_attn` keys. Valid
   * until the weights are reloaded or disposed. @internal
   */
  crossProjections(): { q: RowWeight; qBias: Vec | null; kv: RowWeight; kvBias: Vec | null; out: RowWeight;
    outBias: Tensor | null } | null {
    if (this.kdim !== this.vdim || this.addBiasKv || this.addZeroAttn || this.#inW === null || this.#outW === null) return null;
    const E = this.embedDim, inB = this.#inB;
    return {
      q: tensorWeight(this.#inW, [E, E], 0), qBias: inB,
      kv: tensorWeight(this.#inW, [2 * this.kvDim, this.kdim], E * E), kvBias: inB && { ptr: inB.ptr + E * 4 },
      out: tensorWeight(this.#outW), outBias: this.#outB,
    };
  }

  /**
   * Attention of a block's `B` sequences of `L` query rows over `S` key/value rows, heads
   * read in place: q at `q.ptr` (`[B·L, q.width]` float32, q in its first `E` columns),
   * keys and values at `kv.ptr` (`[B·S, kv.width]`, k from column `kv.k`, v from `kv.v`);
   * the context `[B·L, E]` written at `outPtr`. `options.mask`, `keyPaddingMask` (not a
   * view of WASM memory: masks are allocated first) and `causal` as in
   * {@link MultiHeadAttention.forward}. @internal
   */
  attendRows(q: { ptr: number; width: number }, kv: { ptr: number; width: number; k: number; v: number }, B: number,
    L: number, S: number, options: MultiHeadAttentionForwardOptions, outPtr: number, op: string): void {
    const E = this.embedDim, D = this.headDim;
    const temps: Tensor[] = [];
    try {
      const mask = this.#mask(options, B, L, S, op, temps);
      const at = (ptr: number, width: number, rows: number): Operand => ({ ptr, strides: { batch: rows * width, head: D, row: width } });
      const dims = { batch: B, headsQ: this.numHeads, headsKv: this.numKvHeads, lenQ: L, lenK: S, headDim: D, valueDim: D };
      callAttention({ scale: 1 / Math.sqrt(D), causal: options.causal === true, mask: mask ?? undefined, dims,
        q: at(q.ptr, q.width, L), k: at(kv.ptr + kv.k * 4, kv.width, S), v: at(kv.ptr + kv.v * 4, kv.width, S) },
      { ptr: outPtr, strides: { batch: L * E, head: D, row: E } }, 0);
    } finally {
      disposeAll(...temps);
    }
  }

  /** Checks an input of rank `rank` with last axis `width`; returns `[batch, length]`. */
  #rows(t: Tensor, width: number, op: string, name: string, rank: number): [number, number] {
    tensorArg(t, op, name);
    if ((t.rank !== 2 && t.rank !== 3) || t.rank !== rank || t.shape[t.rank - 1] !== width) {
      throw new RangeError(`wasm-attention: ${op}: ${name} must be [B, L, ${width}] or [L, ${width}] ` +
        `(same rank as x), got ${formatShape(t.shape)}`);
    }
    return t.rank === 3 ? [t.shape[0]!, t.shape[1]!] : [1, t.shape[0]!];
  }

  /** One additive mask (pointer + strides over `[B, H, L, S]`) from `mask` and `keyPaddingMask`. */
  #mask(o: MultiHeadAttentionForwardOptions, B: number, L: number, S: number, op: string, temps: Tensor[]):
    ScoreOptions['mask'] | null {
    const H = this.numHeads;
    let pad: ArrayLike<boolean | number> | null = null;
    if (o.keyPaddingMask !== undefined) {
      const p = o.keyPaddingMask;
      if (p == null || typeof p !== 'object' || (p as ArrayLike<unknown>).length !== B * S) {
        throw new RangeError(`wasm-attention: ${op}: keyPaddingMask needs ${B * S} flags ([B, S] = [${B}, ${S}]), got ${
          p != null && typeof (p as ArrayLike<unknown>).length === 'number' ? `${(p as ArrayLike<unknown>).length} flags` : describe(p)}`);
      }
      pad = p;
    }
    if (o.mask === undefined && pad === null) return null;
    if (o.mask === undefined) {
      const t = Tensor.empty([B, S]);
      temps.push(t);
      const d = t.data;
      for (let i = 0; i < B * S; i++) d[i] = pad![i] ? -Infinity : 0;
      return { ptr: t.ptr, strides: [S, 0, 0, 1] };
    }
    const m = resolveMask(o.mask, [B, H, L, S], op);
    if (m.owned) temps.push(m.tensor);
    const strides = m.strides as [number, number, number, number];
    if (pad === null) return { ptr: m.tensor.ptr, strides };
    // Both: materialise their sum over [B, H or 1, L, S].
    const hm = strides[1] === 0 ? 1 : H;
    const t = Tensor.empty([B, hm, L, S]);
    temps.push(t);
    const d = t.data, md = m.tensor.data;
    for (let b = 0; b < B; b++) for (let h = 0; h < hm; h++) for (let i = 0; i < L; i++) {
      const row = ((b * hm + h) * L + i) * S, mrow = b * strides[0] + h * strides[1] + i * strides[2];
      for (let j = 0; j < S; j++) d[row + j] = md[mrow + j * strides[3]]! + (pad[b * S + j] ? -Infinity : 0);
    }
    return { ptr: t.ptr, strides: [hm * L * S, hm === 1 ? 0 : L * S, S, 1] };
  }

  /** Frees the weights (the module can be loaded again). Calling it twice does nothing. */
  dispose(): void {
    disposeAll(this.#inW, this.#inB, this.#outW, this.#outB);
    this.#biasKv = null;
    this.#inW = this.#inB = this.#outW = this.#outB = null;
  }

  /** The same as `dispose()`, for `using` declarations. */
  [disposeSymbol](): void {
    this.dispose();
  }
}

/**
 * The mask over `S` keys widened to `Sk ≥ S` (extra columns 0: attendable), materialised
 * as `[B, H or 1, L, Sk]`; the mask itself when nothing is added.
 */
function widenMask(m: ScoreOptions['mask'] | null, B: number, H: number, L: number, S: number, Sk: number,
  temps: Tensor[]): ScoreOptions['mask'] | null {
  if (m == null || Sk === S) return m;
  const [s0, s1, s2, s3] = m.strides;
  const hm = s1 === 0 ? 1 : H;
  const t = Tensor.zeros([B, hm, L, Sk]);
  temps.push(t);
  const d = t.data, src = raw.heapF32(), base = m.ptr >>> 2;
  for (let b = 0; b < B; b++) for (let h = 0; h < hm; h++) for (let i = 0; i < L; i++) {
    const row = ((b * hm + h) * L + i) * Sk, from = base + b * s0 + h * s1 + i * s2;
    for (let j = 0; j < S; j++) d[row + j] = src[from + j * s3]!;
  }
  return { ptr: t.ptr, strides: [hm * L * Sk, hm === 1 ? 0 : L * Sk, Sk, 1] };
}

/** Averages `[B, H, L, S]` weights over heads into a new `[B, L, S]` (`[L, S]`) tensor; disposes `w`. */
function averageHeads(w: Tensor, B: number, H: number, L: number, S: number, batched: boolean): Tensor {
  try {
    const avg = Tensor.zeros(batched ? [B, L, S] : [L, S]);
    const a = avg.data, d = w.data, n = L * S;
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
      const src = (b * H + h) * n, dst = b * n;
      for (let e = 0; e < n; e++) a[dst + e] += d[src + e]! / H;
    }
    return avg;
  } finally {
    w.dispose();
  }
}
