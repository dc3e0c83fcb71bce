/** Argument checks shared by the ops. Messages name the argument and its shape. */
import { Tensor } from '../tensor.js';
import type { TensorDType } from '../dtype.js';
import { describe, formatShape, sameShape, type Shape } from '../shape.js';

const FLOAT32: readonly ['float32'] = ['float32'];

/**
 * Throws unless `x` is a live Tensor of one of `dtypes` (float32 unless the op says
 * otherwise); returns it typed.
 */
export function tensorArg(x: unknown, op: string, name: string): Tensor;
export function tensorArg<D extends TensorDType>(x: unknown, op: string, name: string, dtypes: readonly D[]): Tensor<D>;
export function tensorArg(x: unknown, op: string, name: string,
  dtypes: readonly TensorDType[] = FLOAT32): Tensor<TensorDType> {
  if (!(x instanceof Tensor)) {
    throw new TypeError(`wasm-attention: ${op}: ${name} must be a Tensor, got ${describe(x)}`);
  }
  if (x.disposed) {
    throw new Error(`wasm-attention: ${op}: ${name} (shape ${formatShape(x.shape)}) was used after dispose()`);
  }
  const t = x as Tensor<TensorDType>;
  if (!dtypes.includes(t.dtype)) {
    throw new TypeError(`wasm-attention: ${op}: ${name} has dtype ${t.dtype}, but ${op} takes ${
      dtypes.join(' or ')} (convert with ${name}.to('float32'))`);
  }
  return t;
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
