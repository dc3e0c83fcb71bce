/** Element-wise pieces of a transformer block: residual sums and activations, in place where asked. */
import { Tensor } from '../tensor.js';
import { formatShape } from '../shape.js';
import { outArg, tensorArg } from '../ops/args.js';
import { gelu } from './erf.js';
import { geluTanh, silu } from './activations.js';

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
  const ad = a.data, bd = b.data, od = out.data, n = b.size;
  if (n === 0) return out;
  for (let i = 0; i < a.size; i++) od[i] = ad[i]! + bd[i % n]!;
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

const ACTIVATIONS: Record<Activation, ((x: number) => number) | null> = {
  relu: null, gelu, gelu_tanh: geluTanh, silu,
};

/** Applies `activation` to every element of `x` in place and returns `x`. */
export function applyActivation(x: Tensor, activation: Activation): Tensor {
  tensorArg(x, 'applyActivation', 'x');
  if (typeof activation !== 'string' || !Object.prototype.hasOwnProperty.call(ACTIVATIONS, activation)) {
    throw new TypeError(`wasm-attention: activation must be one of ${Object.keys(ACTIVATIONS).map((a) => `'${a}'`).join(', ')}, got ${String(activation)}`);
  }
  const d = x.data, f = ACTIVATIONS[activation];
  if (f === null) {
    for (let i = 0; i < d.length; i++) if (d[i]! < 0) d[i] = 0;
  } else {
    for (let i = 0; i < d.length; i++) d[i] = f(d[i]!);
  }
  return x;
}
