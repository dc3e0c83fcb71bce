/**
 * Element-wise pieces of a transformer block: residual sums and activations, in place
 * where asked, on the WASM kernels (`ts/ops/elementwise.ts`; accuracy of the vectorised
 * erf/tanh-GELU and SiLU in crates/kernels/src/elementwise/activation.rs).
 */
import { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';
import { outArg, tensorArg } from '../ops/args.js';
import { ACTIVATION_CODES, addRows, biasActivation } from '../ops/elementwise.js';

/** Options of {@link add}. */
export interface AddOptions {
  /** Where to write `a + b`; may be `a` or `b` (in place). @defaultValue a new tensor */
  out?: Tensor;
}

/**
 * `a + b` (the residual connection). `b` has the shape of `a` or of its trailing axes
 * (then it repeats over the leading ones, e.g. a bias `[E]` for `a [B, L, E]`).
 */
export function add(a: Tensor, b: Tensor, options: AddOptions = {}): Tensor {
  const op = 'add';
  tensorArg(a, op, 'a');
  tensorArg(b, op, 'b');
  const tail = a.shape.slice(a.rank - b.rank);
  if (b.rank > a.rank || tail.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`wasm-attention: ${op}: b ${formatShape(b.shape)} must equal a ${formatShape(a.shape)} or its trailing axes`);
  }
  if (options.out === b && b.size !== a.size) {
    throw new RangeError(`wasm-attention: ${op}: out is b ${formatShape(b.shape)}, too small for a ${formatShape(a.shape)}`);
  }
  const out = options.out === a || options.out === b ? options.out : outArg(options.out, a.shape, op, {});
  const n = b.size;
  if (n === 0) return out;
  try {
    // b repeats every n values: a is [a.size / n, n] rows plus b.
    addRows(a.ptr, n, b.ptr, out.ptr, n, a.size / n, n, op);
  } catch (e) {
    if (out !== options.out) out.dispose();
    throw e;
  }
  return out;
}

/**
 * Activation functions of {@link applyActivation}:
 * - `'relu'`: `max(0, x)` (PyTorch `ReLU`);
 * - `'gelu'`: exact `x·Φ(x)` with erf (PyTorch `GELU()`, ONNX `Gelu`);
 * - `'gelu_tanh'`: tanh approximation (PyTorch `GELU(approximate='tanh')`, ONNX
 *   `Gelu(approximate="tanh")`, Hugging Face `gelu_new` — GPT-2);
 * - `'silu'`: `x·σ(x)` (PyTorch `SiLU`, ONNX `x·Sigmoid(x)`, Hugging Face `silu` — LLaMA).
 */
export type Activation = 'gelu' | 'gelu_tanh' | 'relu' | 'silu';

/** The kernel's code of `activation`; throws a TypeError naming the valid ones. @internal */
export function activationCode(activation: unknown): number {
  if (typeof activation !== 'string' || !Object.prototype.hasOwnProperty.call(ACTIVATION_CODES, activation)) {
    throw new TypeError(`wasm-attention: activation must be one of ${Object.keys(ACTIVATION_CODES).map((a) => `'${a}'`).join(', ')}, got ${String(activation)}`);
  }
  return ACTIVATION_CODES[activation as Activation];
}

/** Applies `activation` to every element of `x` in place and returns `x`. */
export function applyActivation(x: Tensor, activation: Activation): Tensor {
  tensorArg(x, 'applyActivation', 'x');
  const code = activationCode(activation);
  if (x.size > 0) biasActivation(x.ptr, x.size, 1, x.size, 0, code, 'applyActivation');
  return x;
}
