/**
 * The element-wise kernels on blocks of WASM memory: bias + activation, gated pairs,
 * broadcast adds, LayerNorm/RMSNorm (optionally after a residual add) and RoPE. The
 * toolkit's `applyActivation`, `add`, `layerNorm`, `rmsNorm`, `applyRope` and the
 * feed-forward networks call these after checking their arguments; pointers are byte
 * offsets, strides count floats. Every range is checked again by the kernel.
 * @internal
 */
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';

/** Activation codes of `wa_bias_act` / `wa_gated_act` (crates/kernels/src/elementwise/activation.rs). */
export const ACTIVATION_CODES = { relu: 1, gelu: 2, gelu_tanh: 3, silu: 4 } as const;
/** Code of the identity (a plain bias add). */
export const IDENTITY = 0;

/** A parameter vector in WASM memory: a Tensor's own block, or a temporary copy of an array. */
export interface Staged {
  /** Byte offset of the first value. */
  readonly ptr: number;
  /** Frees the copy (nothing for a Tensor). */
  release(): void;
}

const NOTHING: Staged = { ptr: 0, release() {} };

/**
 * `values` in WASM memory as float32: a Tensor is used where it lies; an array is copied
 * once (one typed-array `set`, rounding to float32) into a block freed by `release()`.
 */
export function stage(values: Tensor | ArrayLike<number> | null | undefined): Staged {
  if (values == null) return NOTHING;
  if (values instanceof Tensor) return { ptr: values.ptr, release() {} };
  // A view of WASM memory is copied before the allocation can grow (and detach) it.
  const src = raw.stableSource(values, 'a parameter vector');
  const n = src.length;
  const ptr = raw.alloc(n * 4);
  raw.heapF32().set(src, ptr >>> 2);
  return { ptr, release: () => raw.free(ptr) };
}

/** Releases every staged vector. */
export function releaseAll(...s: Staged[]): void {
  for (const v of s) v.release();
}

/** `x[r, c] ← act(x[r, c] + bias[c])` in place (`biasPtr` 0: no bias). */
export function biasActivation(x: number, ld: number, rows: number, cols: number, biasPtr: number, act: number,
  op: string): void {
  raw.check(raw.wasm().wa_bias_act(x, ld, rows, cols, biasPtr, act), op);
}

/** `gate ← act(gate + gateBias) ⊙ (up + upBias)` row by row (bias pointers 0: none). */
export function gatedActivation(gate: number, ldg: number, up: number, ldu: number, rows: number, cols: number,
  gateBias: number, upBias: number, act: number, op: string): void {
  raw.check(raw.wasm().wa_gated_act(gate, ldg, up, ldu, rows, cols, gateBias, upBias, act), op);
}

/** `out[r, c] ← a[r, c] + b[c]` (out may be a, or b when `rows` is 1). */
export function addRows(a: number, lda: number, b: number, out: number, ldo: number, rows: number, cols: number,
  op: string): void {
  raw.check(raw.wasm().wa_add(a, lda, b, out, ldo, rows, cols), op);
}

/**
 * `out ← norm(x)` over contiguous rows: LayerNorm with `beta`, RMSNorm with `beta` 0;
 * with `residual`, first `x ← x + residual`.
 */
export function normRows(x: number, residual: number, out: number, rows: number, cols: number, gamma: number,
  beta: number, eps: number, op: string): void {
  raw.check(raw.wasm().wa_norm(x, residual, out, rows, cols, gamma, beta, eps), op);
}

/** RoPE in place over `rows` rows `ld` floats apart (see `wa_rope`); style 0 half, 1 interleaved. */
export function ropeRows(x: number, rows: number, ld: number, heads: number, headDim: number, rot: number,
  cos: number, sin: number, tableRows: number, style: number, op: string): void {
  raw.check(raw.wasm().wa_rope(x, rows, ld, heads, headDim, rot, cos, sin, tableRows, style), op);
}
