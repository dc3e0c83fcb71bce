/**
 * Attention over a packed variable-length batch: sequences stored back to back along
 * the row axis (`[T, H, D]`, no padding) with row offsets `[B + 1]`, each sequence
 * attending only to itself (FlashAttention's `cu_seqlens`). The kernel runs every
 * sequence on its own rows, so the cost follows `Σ nᵢ²`, not `B · max(nᵢ)²`.
 * @internal
 */
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { outArg } from './args.js';
import { callAttentionVarlen, type Operand, type Strides } from './attention-call.js';
import type { AnyTensor, AttentionOptions, AttentionWithLse } from './attention.js';
import { scoreArgs } from './attention-score.js';

/** Largest offset the kernel's u32 words take from JavaScript's int32-safe arithmetic. */
const MAX_OFFSET = 2 ** 31 - 1;

/**
 * Checks sequence offsets against `T` packed rows and copies them as u32: an array of
 * `B + 1` integers, starting at 0, never decreasing, ending at `T`. Errors name the
 * index and value at fault.
 */
export function offsetsArg(x: unknown, T: number, op: string): Uint32Array {
  raw.checkAttached(x, `${op}: seqOffsets`);
  if (x === null || typeof x !== 'object' || typeof (x as ArrayLike<unknown>).length !== 'number') {
    throw new TypeError(`wasm-attention: ${op}: seqOffsets must be an array of B + 1 row offsets, got ${describe(x)}`);
  }
  const a = x as ArrayLike<unknown>;
  if (a.length < 1) throw new RangeError(`wasm-attention: ${op}: seqOffsets needs at least one value (0), got an empty array`);
  const out = new Uint32Array(a.length);
  let prev = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_OFFSET) {
      throw new RangeError(`wasm-attention: ${op}: seqOffsets[${i}] = ${typeof v === 'number' ? v : describe(v)} is not an integer in [0, 2^31 − 1]`);
    }
    if (i === 0 && v !== 0) throw new RangeError(`wasm-attention: ${op}: seqOffsets[0] must be 0, got ${v}`);
    if (v < prev) {
      throw new RangeError(`wasm-attention: ${op}: seqOffsets must not decrease: seqOffsets[${i}] = ${v} < seqOffsets[${i - 1}] = ${prev}`);
    }
    out[i] = prev = v;
  }
  if (prev !== T) {
    throw new RangeError(`wasm-attention: ${op}: seqOffsets must end at the ${T} packed rows, got seqOffsets[${a.length - 1}] = ${prev}`);
  }
  return out;
}

/** u32 offsets copied into WASM memory; `release()` frees them. */
export function stageOffsets(offsets: Uint32Array): { ptr: number; release(): void } {
  const ptr = raw.alloc(offsets.length * 4);
  raw.heapU32().set(offsets, ptr >>> 2);
  return { ptr, release: () => raw.free(ptr) };
}

/** Strides of a packed `[T, H, cols]` tensor (a row steps over every head). */
export function packedStrides(heads: number, cols: number): Strides {
  return { batch: 0, head: cols, row: heads * cols };
}

/**
 * The `seqOffsets` form of `attention`: `q [T, Hq, D]`, `k [T, Hkv, D]`, `v [T, Hkv, Dv]`
 * → `[T, Hq, Dv]` (`lse [Hq, T]`). Called by `attention` after its dtype checks.
 */
export function attentionPacked(q: AnyTensor, k: AnyTensor, v: AnyTensor, options: AttentionOptions,
  op: string): Tensor | AttentionWithLse {
  const shapes = `q ${formatShape(q.shape)}, k ${formatShape(k.shape)}, v ${formatShape(v.shape)}`;
  if (q.rank !== 3 || k.rank !== 3 || v.rank !== 3) {
    throw new RangeError(`wasm-attention: ${op}: with seqOffsets, q, k and v are packed [T, H, D]: ${shapes}`);
  }
  const [T, hq, d] = q.shape as [number, number, number];
  const [tk, hkv, dk] = k.shape as [number, number, number];
  const [tv, hv, dv] = v.shape as [number, number, number];
  if (tk !== T || tv !== T) throw new RangeError(`wasm-attention: ${op}: q, k and v must have the same T rows: ${shapes}`);
  if (dk !== d) throw new RangeError(`wasm-attention: ${op}: q and k head sizes differ (${d} vs ${dk}): ${shapes}`);
  if (hv !== hkv) throw new RangeError(`wasm-attention: ${op}: k and v must have the same heads: ${shapes}`);
  if (hkv === 0 || hq % hkv !== 0) {
    throw new RangeError(`wasm-attention: ${op}: query heads (${hq}) must be a multiple of key/value heads (${hkv}): ${shapes}`);
  }
  if (options.mask !== undefined) {
    throw new TypeError(`wasm-attention: ${op}: mask cannot be combined with seqOffsets (sequences already see only themselves)`);
  }
  const offsets = offsetsArg(options.seqOffsets, T, op);
  const temps: Tensor[] = [];
  let staged: { ptr: number; release(): void } | null = null;
  try {
    const score = scoreArgs(options, d, hq, op, temps);
    const out = outArg(options.out, [T, hq, dv], op, { q, k, v } as Record<string, Tensor>);
    let lse: Tensor | null = null;
    try {
      lse = options.returnLse ? Tensor.empty([hq, T]) : null;
      staged = stageOffsets(offsets);
      const operand = (t: AnyTensor, h: number, c: number): Operand => ({ ptr: t.ptr, strides: packedStrides(h, c), dtype: t.dtype });
      callAttentionVarlen({ ...score, dims: { batch: 1, headsQ: hq, headsKv: hkv, lenQ: T, lenK: T, headDim: d, valueDim: dv },
        q: operand(q, hq, d), k: operand(k, hkv, d), v: operand(v, hkv, dv) },
      operand(out, hq, dv), staged.ptr, offsets.length - 1, lse ? lse.ptr : 0);
    } catch (e) {
      lse?.dispose();
      if (out !== options.out) out.dispose();
      throw e;
    }
    return lse ? { out, lse } : out;
  } finally {
    staged?.release();
    for (const t of temps) t.dispose();
  }
}
