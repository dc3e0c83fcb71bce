/**
 * The position-wise feed-forward network of a transformer block:
 * `FFN(x) = act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂`, both products on the GEMM kernel (every position
 * of every batch is one row of a single GEMM), bias and activation element-wise.
 */
import { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';
import { matmul } from '../ops/matmul.js';
import { type Activation, applyActivation } from './elementwise.js';
import { addBiasRows, disposeAll, floatsArg, lastAxis } from './common.js';

/**
 * Weights in PyTorch's `Linear` layout (`[out, in]`). Tensors are used in place; arrays
 * are copied into WASM memory on every call (load them once with `Tensor.from` instead).
 */
export interface FeedForwardWeights {
  /** `[F, E]`: the expansion (`linear1.weight`). */
  w1: Tensor | ArrayLike<number>;
  /** `[F]`. @defaultValue no bias */
  b1?: Tensor | ArrayLike<number>;
  /** `[E, F]`: the projection back (`linear2.weight`). */
  w2: Tensor | ArrayLike<number>;
  /** `[E]`. @defaultValue no bias */
  b2?: Tensor | ArrayLike<number>;
  /** Non-linearity between the two layers: exact (erf) GELU or ReLU. @defaultValue 'relu' */
  activation?: Activation;
}

/** `FFN(x)` for `x [..., E]`; returns a new `[..., E]` tensor. */
export function feedForward(x: Tensor, weights: FeedForwardWeights): Tensor {
  const op = 'feedForward';
  const E = lastAxis(x, op, 'x', 2);
  const temps: Tensor[] = [];
  /** A `[rows, cols]` weight (`rows` null: inferred from the length). */
  const weight = (w: unknown, name: string, rows: number | null, cols: number): Tensor => {
    const want = `[${rows ?? 'F'}, ${cols}]`;
    if (w instanceof Tensor) {
      if (w.rank !== 2 || (rows !== null && w.shape[0] !== rows) || w.shape[1] !== cols) {
        throw new RangeError(`wasm-attention: ${op}: ${name} must be ${want}, got ${formatShape(w.shape)}`);
      }
      return w;
    }
    const len = (w as ArrayLike<number> | null | undefined)?.length;
    const r = rows ?? (typeof len === 'number' && len % cols === 0 ? len / cols : NaN);
    if (Number.isNaN(r)) {
      throw new RangeError(`wasm-attention: ${op}: ${name} must be ${want} (a multiple of ${cols} values), got ${len ?? typeof w}`);
    }
    const t = Tensor.from(floatsArg(w, r * cols, op, `${name} ${want}`), [r, cols]);
    temps.push(t);
    return t;
  };
  try {
    const w1 = weight(weights.w1, 'w1', null, E);
    const F = w1.shape[0]!;
    const w2 = weight(weights.w2, 'w2', E, F);
    const rows = x.size / E;
    const h = matmul(x, w1, { transposeB: true });
    temps.push(h);
    if (weights.b1 !== undefined) addVector(h, weights.b1, F, rows, op, 'b1');
    applyActivation(h, weights.activation ?? 'relu');
    const y = matmul(h, w2, { transposeB: true });
    try {
      if (weights.b2 !== undefined) addVector(y, weights.b2, E, rows, op, 'b2');
    } catch (e) {
      y.dispose();
      throw e;
    }
    return y;
  } finally {
    disposeAll(...temps);
  }
}

function addVector(t: Tensor, v: Tensor | ArrayLike<number>, n: number, rows: number, op: string, name: string): void {
  if (v instanceof Tensor) {
    floatsArg(v, n, op, `${name} [${n}]`);
    addBiasRows(t.ptr >>> 2, rows, n, n, v);
    return;
  }
  const b = floatsArg(v, n, op, `${name} [${n}]`), d = t.data;
  for (let r = 0; r < rows; r++) for (let c = 0; c < n; c++) d[r * n + c] += b[c]!;
}
