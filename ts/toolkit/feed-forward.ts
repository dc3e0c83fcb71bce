/**
 * The position-wise feed-forward networks of a transformer block, products on the GEMM
 * kernel (every position of every batch is one row of a single GEMM); bias + activation
 * in one pass, and bias + activation + gating in one pass, on the element-wise kernels:
 * - {@link feedForward}: `FFN(x) = act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂` (PyTorch's transformer layers, GPT-2's MLP);
 * - {@link gatedFeedForward}: `down(act(gate(x)) ⊙ up(x))` (Shazeer 2020, "GLU Variants"):
 *   SwiGLU with SiLU (LLaMA, Mistral, Qwen2, SmolLM's `LlamaMLP`), GeGLU with GELU (Gemma).
 */
import { Tensor } from '../tensor.js';
import type { TensorDType } from '../dtype.js';
import { describe, formatShape } from '../shape.js';
import * as raw from '../raw.js';
import { matmul } from '../ops/matmul.js';
import { type Activation, activationCode } from './elementwise.js';
import { disposeAll, floatsArg, lastAxis } from './common.js';
import { addRows, biasActivation, gatedActivation, stage } from '../ops/elementwise.js';

/**
 * Weights in PyTorch's `Linear` layout (`[out, in]`), float32 or float16/bfloat16 (widened
 * exactly by the GEMM while it packs them). Tensors are used in place; arrays are copied
 * into WASM memory on every call (load them once with `Tensor.from` instead).
 */
export interface FeedForwardWeights {
  /** `[F, E]`: the expansion (`linear1.weight`). */
  w1: Tensor<TensorDType> | ArrayLike<number>;
  /** `[F]`. @defaultValue no bias */
  b1?: Tensor | ArrayLike<number>;
  /** `[E, F]`: the projection back (`linear2.weight`). */
  w2: Tensor<TensorDType> | ArrayLike<number>;
  /** `[E]`. @defaultValue no bias */
  b2?: Tensor | ArrayLike<number>;
  /** Non-linearity between the two layers (see {@link Activation}). @defaultValue 'relu' */
  activation?: Activation;
}

/** `FFN(x)` for `x [..., E]`; returns a new `[..., E]` tensor. */
export function feedForward(x: Tensor, weights: FeedForwardWeights): Tensor {
  const op = 'feedForward';
  const E = lastAxis(x, op, 'x', 2);
  weights = stableWeights(weights, op);
  const temps: Tensor[] = [];
  try {
    const w1 = weightArg(weights.w1, op, 'w1', null, E, temps);
    const F = w1.shape[0]!;
    const w2 = weightArg(weights.w2, op, 'w2', E, F, temps);
    const rows = x.size / E;
    const h = matmul(x, w1, { transposeB: true });
    temps.push(h);
    if (weights.b1 !== undefined) floatsArg(weights.b1, F, op, `b1 [${F}]`);
    const act = activationCode(weights.activation ?? 'relu');
    const b1 = stage(weights.b1);
    try {
      // h ← act(h + b₁) in one pass.
      if (h.size > 0) biasActivation(h.ptr, F, rows, F, b1.ptr, act, op);
    } finally {
      b1.release();
    }
    return project(h, w2, weights.b2, E, rows, op, 'b2');
  } finally {
    disposeAll(...temps);
  }
}

/**
 * Weights of {@link gatedFeedForward}, in PyTorch's `Linear` layout (`[out, in]`), as
 * Hugging Face's `LlamaMLP` names them. Arrays are copied into WASM memory on every call.
 */
export interface GatedFeedForwardWeights {
  /** `[F, E]` (`gate_proj.weight`): its output goes through the activation. */
  gate: Tensor<TensorDType> | ArrayLike<number>;
  /** `[F, E]` (`up_proj.weight`): the linear branch. */
  up: Tensor<TensorDType> | ArrayLike<number>;
  /** `[E, F]` (`down_proj.weight`). */
  down: Tensor<TensorDType> | ArrayLike<number>;
  /** `[F]`. @defaultValue no bias */
  gateBias?: Tensor | ArrayLike<number>;
  /** `[F]`. @defaultValue no bias */
  upBias?: Tensor | ArrayLike<number>;
  /** `[E]`. @defaultValue no bias */
  downBias?: Tensor | ArrayLike<number>;
  /** Activation of the gate: `'silu'` gives SwiGLU, `'gelu'`/`'gelu_tanh'` GeGLU. @defaultValue 'silu' */
  activation?: Activation;
}

/**
 * `down(act(x·Gᵀ + b_g) ⊙ (x·Uᵀ + b_u)) + b_d` for `x [..., E]`; returns a new `[..., E]`
 * tensor. Equals Hugging Face's `LlamaMLP.forward` (`down_proj(act_fn(gate_proj(x)) * up_proj(x))`).
 */
export function gatedFeedForward(x: Tensor, weights: GatedFeedForwardWeights): Tensor {
  const op = 'gatedFeedForward';
  const E = lastAxis(x, op, 'x', 2);
  weights = stableWeights(weights, op);
  const temps: Tensor[] = [];
  try {
    const gate = weightArg(weights.gate, op, 'gate', null, E, temps);
    const F = gate.shape[0]!;
    const up = weightArg(weights.up, op, 'up', F, E, temps);
    const down = weightArg(weights.down, op, 'down', E, F, temps);
    const rows = x.size / E;
    const g = matmul(x, gate, { transposeB: true });
    temps.push(g);
    if (weights.gateBias !== undefined) floatsArg(weights.gateBias, F, op, `gateBias [${F}]`);
    const act = activationCode(weights.activation ?? 'silu');
    const u = matmul(x, up, { transposeB: true });
    temps.push(u);
    if (weights.upBias !== undefined) floatsArg(weights.upBias, F, op, `upBias [${F}]`);
    const gb = stage(weights.gateBias);
    try {
      const ub = stage(weights.upBias);
      try {
        // g ← act(g + b_g) ⊙ (u + b_u) in one pass.
        if (g.size > 0) gatedActivation(g.ptr, F, u.ptr, F, rows, F, gb.ptr, ub.ptr, act, op);
      } finally {
        ub.release();
      }
    } finally {
      gb.release();
    }
    return project(g, down, weights.downBias, E, rows, op, 'downBias');
  } finally {
    disposeAll(...temps);
  }
}

/**
 * `weights` with every array that is a view of WASM memory copied (the products below
 * allocate, and growth would detach such views); Tensors are kept as they are.
 */
function stableWeights<T extends object>(weights: T, op: string): T {
  if (weights == null || typeof weights !== 'object') {
    throw new TypeError(`wasm-attention: ${op}: weights must be an object, got ${describe(weights)}`);
  }
  const out = { ...weights } as Record<string, unknown>;
  for (const [k, v] of Object.entries(out)) if (!(v instanceof Tensor)) out[k] = raw.stableSource(v, `${op}: ${k}`);
  return out as T;
}

/** `h·Wᵀ + b` as a new tensor (freed again if the bias is rejected). */
function project(h: Tensor, w: Tensor<TensorDType>, b: Tensor | ArrayLike<number> | undefined, n: number, rows: number,
  op: string, name: string): Tensor {
  const y = matmul(h, w, { transposeB: true });
  try {
    if (b !== undefined) addVector(y, b, n, rows, op, name);
  } catch (e) {
    y.dispose();
    throw e;
  }
  return y;
}

/** A `[rows, cols]` weight (`rows` null: inferred from the length); arrays are copied and added to `temps`. */
function weightArg(w: unknown, op: string, name: string, rows: number | null, cols: number, temps: Tensor[]): Tensor<TensorDType> {
  const want = `[${rows ?? 'F'}, ${cols}]`;
  if (w instanceof Tensor) {
    if (w.rank !== 2 || (rows !== null && w.shape[0] !== rows) || w.shape[1] !== cols) {
      throw new RangeError(`wasm-attention: ${op}: ${name} must be ${want}, got ${formatShape(w.shape)}`);
    }
    return w as Tensor<TensorDType>; // instanceof on `unknown` gives Tensor<any>
  }
  const len = (w as ArrayLike<number> | null | undefined)?.length;
  const r = rows ?? (typeof len === 'number' && len % cols === 0 ? len / cols : NaN);
  if (Number.isNaN(r)) {
    throw new RangeError(`wasm-attention: ${op}: ${name} must be ${want} (a multiple of ${cols} values), got ${len ?? typeof w}`);
  }
  const t = Tensor.from(floatsArg(w, r * cols, op, `${name} ${want}`), [r, cols]);
  temps.push(t);
  return t;
}

/** `t[r, :] += v` for the `rows × n` tensor `t` (v a Tensor used in place, or an array copied once). */
function addVector(t: Tensor, v: Tensor | ArrayLike<number>, n: number, rows: number, op: string, name: string): void {
  floatsArg(v, n, op, `${name} [${n}]`);
  if (rows === 0 || n === 0) return;
  const b = stage(v);
  try {
    addRows(t.ptr, n, b.ptr, t.ptr, n, rows, n, op);
  } finally {
    b.release();
  }
}
