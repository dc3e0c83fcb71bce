/**
 * Low-level calls of the fused attention kernel with explicit strides, shared by
 * `attention()`, multi-head attention and the KV cache. Writes the descriptor
 * whose layout `crates/wasm/src/attention.rs` defines.
 * @internal
 */
import * as raw from '../raw.js';
import { type CacheDType, dtypeCode } from '../dtype.js';

/** Element strides of a `[batch, head, row, col]` operand whose last axis is contiguous. */
export interface Strides { readonly batch: number; readonly head: number; readonly row: number }

/**
 * A pointer into WASM memory plus the strides (in elements) to read it with, its
 * storage dtype (float32 when omitted) and, for int8, the f32 row scales.
 */
export interface Operand {
  readonly ptr: number;
  readonly strides: Strides;
  readonly dtype?: CacheDType;
  /** float16 only: the data holds no ±inf/NaN (the kernel then widens it faster). */
  readonly finite?: boolean;
  /** int8 only: one f32 scale per `[batch, head, row]`, at `scales.ptr` with these element strides. */
  readonly scales?: { readonly ptr: number; readonly strides: Strides };
}

export interface AttentionDims {
  readonly batch: number;
  readonly headsQ: number;
  readonly headsKv: number;
  readonly lenQ: number;
  readonly lenK: number;
  readonly headDim: number;
  readonly valueDim: number;
}

/** Score modifiers (see `kernels::attention::Options`). */
export interface ScoreOptions {
  readonly scale: number;
  readonly causal: boolean;
  /** Keys more than `left` before / `right` after the aligned query position are blocked. */
  readonly window?: readonly [number, number];
  /** Key position of query row 0 (an int32); bottom-right (`lenK − lenQ`) when omitted. */
  readonly causalOffset?: number;
  readonly softcap?: number;
  /** Pointer to `headsQ` ALiBi slopes. */
  readonly alibiPtr?: number;
  /** Pointer to `headsQ` sink logits. */
  readonly sinksPtr?: number;
  /** Additive mask: pointer and `[b, h, i, j]` element strides (0 broadcasts). */
  readonly mask?: { readonly ptr: number; readonly strides: readonly [number, number, number, number] };
  /** K/V come from memory, not cache (a model's step): float32 decoding reads them in its streaming order. */
  readonly coldKv?: boolean;
}

export interface AttentionCall extends ScoreOptions {
  readonly dims: AttentionDims;
  readonly q: Operand;
  readonly k: Operand;
  /** Values (only for the forward pass). */
  readonly v?: Operand;
}

/** Strides of a contiguous `[batch, heads, rows, cols]` tensor. */
export function contiguous(heads: number, rows: number, cols: number): Strides {
  return { batch: heads * rows * cols, head: rows * cols, row: cols };
}

const W = {
  Q: 0, K: 1, V: 2, OUT: 3, LSE: 4, SHAPE: 5, Q_STRIDES: 12, K_STRIDES: 15, V_STRIDES: 18,
  OUT_STRIDES: 21, SCALE: 24, FLAGS: 25, WINDOW: 26, SOFTCAP: 28, ALIBI: 29, SINKS: 30,
  MASK: 31, MASK_STRIDES: 32, ROWS: 36, CAUSAL_OFFSET: 38, DTYPES: 39, K_SCALES: 40, V_SCALES: 44,
} as const;

const MAX_U32 = 0xffffffff;

function write(call: AttentionCall): { words: Uint32Array; ptr: number } {
  const d = raw.descriptor();
  const { words } = d;
  const f32 = new Float32Array(words.buffer, words.byteOffset, words.length);
  const { dims } = call;
  words[W.Q] = call.q.ptr;
  words[W.K] = call.k.ptr;
  words.set([dims.batch, dims.headsQ, dims.headsKv, dims.lenQ, dims.lenK, dims.headDim, dims.valueDim], W.SHAPE);
  setStrides(words, W.Q_STRIDES, call.q.strides);
  setStrides(words, W.K_STRIDES, call.k.strides);
  if (call.v) {
    words[W.V] = call.v.ptr;
    setStrides(words, W.V_STRIDES, call.v.strides);
  }
  const code = (o: Operand | undefined) =>
    dtypeCode(o?.dtype ?? 'float32') | (o?.finite === true && o.dtype === 'float16' ? 0x80 : 0);
  words[W.DTYPES] = code(call.q) | (code(call.k) << 8) | (code(call.v) << 16);
  for (const [o, at] of [[call.k, W.K_SCALES], [call.v, W.V_SCALES]] as const) {
    if (o?.scales) {
      words[at] = o.scales.ptr;
      setStrides(words, at + 1, o.scales.strides);
    }
  }
  f32[W.SCALE] = call.scale;
  const hasOffset = call.causalOffset !== undefined;
  words[W.FLAGS] = (call.causal ? 1 : 0) | (call.window ? 2 : 0) | (hasOffset ? 4 : 0) | (call.coldKv === true ? 8 : 0);
  if (hasOffset) words[W.CAUSAL_OFFSET] = call.causalOffset! | 0;
  if (call.window) {
    words[W.WINDOW] = Math.min(call.window[0], MAX_U32);
    words[W.WINDOW + 1] = Math.min(call.window[1], MAX_U32);
  }
  f32[W.SOFTCAP] = call.softcap ?? 0;
  words[W.ALIBI] = call.alibiPtr ?? 0;
  words[W.SINKS] = call.sinksPtr ?? 0;
  if (call.mask) {
    words[W.MASK] = call.mask.ptr;
    words.set(call.mask.strides, W.MASK_STRIDES);
  }
  return d;
}

function setStrides(words: Uint32Array, at: number, s: Strides): void {
  words[at] = s.batch;
  words[at + 1] = s.head;
  words[at + 2] = s.row;
}

/** Runs the fused kernel; `lsePtr` (contiguous `[batch, headsQ, lenQ]`) is optional. */
export function callAttention(call: AttentionCall, out: Operand, lsePtr = 0): void {
  const { words, ptr } = write(call);
  words[W.OUT] = out.ptr;
  words[W.LSE] = lsePtr;
  setStrides(words, W.OUT_STRIDES, out.strides);
  raw.check(raw.wasm().wa_attention(ptr), 'attention');
}

/**
 * Writes the weights of query rows `[rowStart, rowStart + rowCount)` as a contiguous
 * `[batch, headsQ, rowCount, lenK]` block at `outPtr`, normalised with `lsePtr` when given.
 */
export function callAttentionProbs(call: AttentionCall, rowStart: number, rowCount: number, outPtr: number,
  lsePtr = 0): void {
  const { words, ptr } = write(call);
  words[W.OUT] = outPtr;
  words[W.LSE] = lsePtr;
  words[W.ROWS] = rowStart;
  words[W.ROWS + 1] = rowCount;
  raw.check(raw.wasm().wa_attention_probs(ptr), 'attentionWeights');
}

/**
 * Runs the fused kernel on a packed variable-length batch: `call.dims` has batch 1 and
 * `lenQ = lenK = T`; `offsetsPtr` holds `seqs + 1` u32 row offsets rising from 0 to T
 * (each sequence attends to its own rows only); `lsePtr` (optional) is `[headsQ, T]`.
 */
export function callAttentionVarlen(call: AttentionCall, out: Operand, offsetsPtr: number, seqs: number,
  lsePtr = 0): void {
  const { words, ptr } = write(call);
  words[W.OUT] = out.ptr;
  words[W.LSE] = lsePtr;
  setStrides(words, W.OUT_STRIDES, out.strides);
  raw.check(raw.wasm().wa_attention_varlen(ptr, offsetsPtr, seqs), 'attention');
}
