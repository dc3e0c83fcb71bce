/** Argument checks shared by the ops. Messages name the argument and its shape. */
import { Tensor } from '../tensor.js';
import { describe, formatShape, sameShape, type Shape } from '../shape.js';

/** Throws unless `x` is a live Tensor; returns it typed. */
export function tensorArg(x: unknown, op: string, name: string): Tensor {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`wasm-attention: ${op}: ${name} must be a Tensor, got ${describe(x)}`);
  }
  if (x.disposed) {
    throw new Error(`wasm-attention: ${op}: ${name} (shape ${formatShape(x.shape)}) was used after dispose()`);
  }
  return x;
}

/** An optional finite number option. */
export function numberArg(x: unknown, fallback: number, op: string, name: string): number {
  if (x === undefined) return fallback;
  if (typeof x !== 'number' || Number.isNaN(x)) {
    throw new TypeError(`wasm-attention: ${op}: ${name} must be a number, got ${describe(x)}`);
  }
  return x;
}

/**
 * The output tensor: `out` when given (checked for shape and for aliasing an
 * input), else a new tensor.
 */
export function outArg(out: unknown, shape: Shape, op: string, inputs: Record<string, Tensor>): Tensor {
  if (out === undefined) return Tensor.empty(shape);
  const o = tensorArg(out, op, 'out');
  if (!sameShape(o.shape, shape)) {
    throw new RangeError(
      `wasm-attention: ${op}: out has shape ${formatShape(o.shape)}, expected ${formatShape(shape)}`);
  }
  for (const [name, t] of Object.entries(inputs)) {
    if (t === o) throw new Error(`wasm-attention: ${op}: out must not be the same tensor as ${name}`);
  }
  return o;
}

export function product(dims: readonly number[]): number {
  let p = 1;
  for (const d of dims) p *= d;
  return p;
}
