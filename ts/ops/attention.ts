/** Scaled dot-product attention on the fused (flash-style) WASM kernel. */
import { Tensor } from '../tensor.js';
import { formatShape, type Shape } from '../shape.js';
import { numberArg, outArg, tensorArg } from './args.js';
import { type AttentionDims, callAttention, callAttentionProbs, contiguous, type Operand, type ScoreOptions } from './attention-call.js';
import type { TensorDType } from '../dtype.js';
import { type MaskInput, resolveMask } from './mask.js';
import { attentionPacked } from './attention-varlen.js';
import { scoreArgs } from './attention-score.js';

/** Options of {@link attention}. */
export interface AttentionOptions {
  /**
   * Block future keys: query `i` sees keys `j ≤ i + causalOffset`. By default the
   * diagonal is bottom-right aligned (`j ≤ i + Lk − Lq`: the last query sees every key,
   * as in decoding). @defaultValue false
   */
  causal?: boolean;
  /**
   * The key position of query row 0, for `causal`, `window` and ALiBi distances: query
   * `i` sits at key position `i + causalOffset`. The default, `Lk − Lq`, aligns the
   * diagonal bottom-right (FlashAttention; the last query is the newest key). `0` aligns
   * it top-left (PyTorch's `scaled_dot_product_attention(is_causal=True)` with `Lq ≠ Lk`).
   * With `past` cached keys in front of the chunk's own (chunked prefill; ONNX
   * Attention with past key/value) it is `past`. Any integer; negative values put query
   * rows before the first key. @defaultValue Lk − Lq
   */
  causalOffset?: number;
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
  /** Additive mask broadcastable to `[B, Hq, Lq, Lk]` (`-Infinity` blocks) or `{ attend, shape }` booleans. */
  mask?: MaskInput;
  /**
   * Sliding window (local attention): `[left, right]` keys around the aligned query
   * position; a number `w` means `[w, w]`. Combine with `causal` for the usual left-only window.
   */
  window?: number | readonly [number, number];
  /** Logit soft-capping: `s ← c·tanh(s / c)` (after scaling). @defaultValue off */
  softcap?: number;
  /** One ALiBi slope per query head: adds `−slope·|i′ − j|` to the scores. */
  alibiSlopes?: ArrayLike<number>;
  /** One sink logit per query head: joins each softmax denominator, contributes no value. */
  sinks?: ArrayLike<number>;
  /** Where to write the output; a new tensor when omitted. */
  out?: Tensor;
  /** Also return the per-row log-sum-exp of the (modified) scores, shape `[..., Lq]` (`[Hq, T]` with `seqOffsets`). @defaultValue false */
  returnLse?: boolean;
  /**
   * A packed variable-length batch: `B + 1` row offsets (0 first, never decreasing, `T`
   * last; integers below 2³¹) over `q [T, Hq, D]`, `k [T, Hkv, D]`, `v [T, Hkv, Dv]` that
   * hold `B` sequences back to back without padding. Sequence `s` owns rows
   * `seqOffsets[s] … seqOffsets[s+1] − 1` and attends only to them; positions (`causal`,
   * `window`, ALiBi) restart at 0 in each. The output is `[T, Hq, Dv]`. Empty sequences
   * are allowed; `mask` is not (FlashAttention's `cu_seqlens`).
   */
  seqOffsets?: ArrayLike<number>;
}

/** Output of attention with `returnLse: true`. */
export interface AttentionWithLse {
  /** The attention output, `[..., Lq, Dv]`. */
  readonly out: Tensor;
  /** `log Σ_j exp(s_ij)` per query row; `-Infinity` for fully masked rows. */
  readonly lse: Tensor;
}

/** Normalised arguments of an attention-like call. */
export interface Prepared {
  readonly dims: AttentionDims;
  /** Leading sizes of q (for output shapes): q.shape without its last two axes. */
  readonly lead: Shape;
  readonly score: ScoreOptions;
  /** Frees temporaries (converted masks, slopes, sinks). */
  release(): void;
}

/** A tensor of any storage dtype (`attention` takes float32, float16 and bfloat16 q, k, v). */
export type AnyTensor = Tensor<TensorDType>;

const FLOAT_DTYPES: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/**
 * `softmax(q·kᵀ·scale + mask) · v`, exact, without materialising the `Lq × Lk` scores.
 * `q`, `k` and `v` may be stored as float32, float16 or bfloat16 (`k` and `v` alike):
 * the kernel widens elements as it loads them; the output is float32.
 * Shapes: `q [B, Hq, Lq, D]`, `k [B, Hkv, Lk, D]`, `v [B, Hkv, Lk, Dv]` → `[B, Hq, Lq, Dv]`;
 * leading axes may be omitted (`[L, D]`, `[H, L, D]`). `Hq` must be a multiple of `Hkv`
 * (grouped-query attention reads shared K/V heads without copying). Fully masked rows give 0.
 * With `seqOffsets`, `q`, `k`, `v` are packed `[T, H, D]` batches of variable-length
 * sequences, each attending to itself (see {@link AttentionOptions.seqOffsets}).
 */
export function attention(q: AnyTensor, k: AnyTensor, v: AnyTensor, options: AttentionOptions & { returnLse: true }): AttentionWithLse;
export function attention(q: AnyTensor, k: AnyTensor, v: AnyTensor, options?: AttentionOptions & { returnLse?: false }): Tensor;
/** With a `returnLse` known only at run time: `{ out, lse }` when it is true, else the output tensor. */
export function attention(q: AnyTensor, k: AnyTensor, v: AnyTensor, options: AttentionOptions): Tensor | AttentionWithLse;
export function attention(q: AnyTensor, k: AnyTensor, v: AnyTensor, options: AttentionOptions = {}): Tensor | AttentionWithLse {
  const op = 'attention';
  tensorArg(q, op, 'q', FLOAT_DTYPES);
  tensorArg(k, op, 'k', FLOAT_DTYPES);
  tensorArg(v, op, 'v', FLOAT_DTYPES);
  if (k.dtype !== v.dtype) {
    throw new TypeError(`wasm-attention: ${op}: k (${k.dtype}) and v (${v.dtype}) must have the same dtype`);
  }
  if (options.seqOffsets !== undefined) return attentionPacked(q, k, v, options, op);
  const p = prepare(q, k, v, options, op, FLOAT_DTYPES);
  const { dims } = p;
  try {
    const out = outArg(options.out, [...p.lead, dims.valueDim], op, { q, k, v } as Record<string, Tensor>);
    const lse = options.returnLse ? Tensor.empty([...p.lead]) : null;
    try {
      callAttention(
        { ...p.score, dims, q: operand(q, dims.headsQ, dims.lenQ, dims.headDim),
          k: operand(k, dims.headsKv, dims.lenK, dims.headDim), v: operand(v, dims.headsKv, dims.lenK, dims.valueDim) },
        operand(out, dims.headsQ, dims.lenQ, dims.valueDim), lse ? lse.ptr : 0);
    } catch (e) {
      lse?.dispose();
      if (out !== options.out) out.dispose();
      throw e;
    }
    return lse ? { out, lse } : out;
  } finally {
    p.release();
  }
}

/** Options of {@link attentionWeights}. */
export interface AttentionWeightsOptions extends Omit<AttentionOptions, 'out' | 'returnLse' | 'seqOffsets'> {
  /** First query row. @defaultValue 0 */
  rowStart?: number;
  /** Number of query rows. @defaultValue Lq − rowStart */
  rowCount?: number;
  /** The `lse` of an earlier `attention(..., { returnLse: true })` with the same inputs: skips a pass. */
  lse?: Tensor;
}

/**
 * Exact attention weights `softmax(q·kᵀ·scale + mask)` for chosen query rows, shape
 * `[..., rowCount, Lk]` — the attention map, computed row by row from the scores
 * (with `lse` from the fused kernel, one pass and no normalisation work).
 */
export function attentionWeights(q: Tensor, k: Tensor, options: AttentionWeightsOptions = {}): Tensor {
  const op = 'attentionWeights';
  if ((options as AttentionOptions).seqOffsets !== undefined) {
    throw new TypeError(`wasm-attention: ${op}: seqOffsets is not supported; call it per sequence`);
  }
  const p = prepare(q, k, null, options, op);
  const { dims } = p;
  try {
    const rowStart = numberArg(options.rowStart, 0, op, 'rowStart');
    const rowCount = numberArg(options.rowCount, dims.lenQ - rowStart, op, 'rowCount');
    if (!Number.isInteger(rowStart) || !Number.isInteger(rowCount) || rowStart < 0 || rowCount < 0 ||
      rowStart + rowCount > dims.lenQ) {
      throw new RangeError(
        `wasm-attention: ${op}: rows [${rowStart}, ${rowStart + rowCount}) are outside the ${dims.lenQ} query rows`);
    }
    let lsePtr = 0;
    if (options.lse !== undefined) {
      const lse = tensorArg(options.lse, op, 'lse');
      const want = [...p.lead];
      if (lse.size !== dims.batch * dims.headsQ * dims.lenQ || lse.shape.join() !== want.join()) {
        throw new RangeError(
          `wasm-attention: ${op}: lse has shape ${formatShape(lse.shape)}, expected ${formatShape(want)}`);
      }
      lsePtr = lse.ptr;
    }
    const out = Tensor.empty([...p.lead.slice(0, -1), rowCount, dims.lenK]);
    try {
      callAttentionProbs({ ...p.score, dims, q: operand(q, dims.headsQ, dims.lenQ, dims.headDim),
        k: operand(k, dims.headsKv, dims.lenK, dims.headDim) }, rowStart, rowCount, out.ptr, lsePtr);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  } finally {
    p.release();
  }
}

function operand(t: AnyTensor, heads: number, rows: number, cols: number): Operand {
  return { ptr: t.ptr, strides: contiguous(heads, rows, cols), dtype: t.dtype };
}

/** Pads a shape of rank 2–4 to `[B, H, L, D]`. */
function as4d(t: AnyTensor, name: string, op: string): [number, number, number, number] {
  if (t.rank < 2 || t.rank > 4) {
    throw new RangeError(
      `wasm-attention: ${op}: ${name} must have 2 to 4 axes ([L, D], [H, L, D] or [B, H, L, D]), got ${formatShape(t.shape)}`);
  }
  const s = [1, 1, ...t.shape].slice(-4);
  return s as [number, number, number, number];
}

/** Validates q/k(/v) and the score options; allocates temporaries that `release()` frees. */
export function prepare(q: AnyTensor, k: AnyTensor, v: AnyTensor | null, options: AttentionOptions, op: string,
  dtypes: readonly TensorDType[] = ['float32']): Prepared {
  tensorArg(q, op, 'q', dtypes);
  tensorArg(k, op, 'k', dtypes);
  if (v !== null) tensorArg(v, op, 'v', dtypes);
  const [bq, hq, lq, d] = as4d(q, 'q', op);
  const [bk, hkv, lk, dk] = as4d(k, 'k', op);
  const shapes = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}${v ? `, v ${formatShape(v.shape)}` : ''}`;
  if (k.rank !== q.rank || (v !== null && v.rank !== q.rank)) {
    throw new RangeError(`wasm-attention: ${op}: q, k and v must have the same number of axes: ${shapes}`);
  }
  if (dk !== d) throw new RangeError(`wasm-attention: ${op}: q and k head sizes differ (${d} vs ${dk}): ${shapes}`);
  if (bk !== bq) throw new RangeError(`wasm-attention: ${op}: batch sizes differ: ${shapes}`);
  if (hkv === 0 || hq % hkv !== 0) {
    throw new RangeError(
      `wasm-attention: ${op}: query heads (${hq}) must be a multiple of key/value heads (${hkv}): ${shapes}`);
  }
  let dv = d;
  if (v !== null) {
    const [bv, hv, lv, dvv] = as4d(v, 'v', op);
    if (bv !== bq || hv !== hkv || lv !== lk) {
      throw new RangeError(`wasm-attention: ${op}: k and v must agree on batch, heads and length: ${shapes}`);
    }
    dv = dvv;
  }
  const dims: AttentionDims = { batch: bq, headsQ: hq, headsKv: hkv, lenQ: lq, lenK: lk, headDim: d, valueDim: dv };
  const temps: Tensor[] = [];
  const release = () => { for (const t of temps) t.dispose(); };
  try {
    const score = scoreArgs(options, d, hq, op, temps);
    if (options.mask !== undefined) {
      const m = resolveMask(options.mask, [bq, hq, lq, lk], op);
      if (m.owned) temps.push(m.tensor);
      score.mask = { ptr: m.tensor.ptr, strides: m.strides as [number, number, number, number] };
    }
    return { dims, lead: [...q.shape.slice(0, -1)], score, release };
  } catch (e) {
    release();
    throw e;
  }
}
