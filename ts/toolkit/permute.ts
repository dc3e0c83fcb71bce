/**
 * Axis permutation as a copy into a new contiguous tensor (PyTorch `x.permute(*dims).contiguous()`,
 * `x.transpose(a, b).contiguous()`; ONNX `Transpose(perm)`).
 *
 * The copy walks the output in order and the input with the permuted strides, one
 * contiguous run of the innermost axis at a time when that axis stays last. Any storage
 * dtype: elements are moved, never converted (the result has the dtype of `x`).
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';
import type { TensorDType } from '../dtype.js';

const ANY: readonly TensorDType[] = ['float32', 'float16', 'bfloat16'];

/** `out[i₀, …, iₙ] = x[…]` with `out.shape[a] = x.shape[dims[a]]`; a new tensor. Negative axes count from the end. */
export function permute<D extends TensorDType>(x: Tensor<D>, dims: readonly number[]): Tensor<D> {
  const op = 'permute';
  tensorArg(x, op, 'x', ANY);
  const r = x.rank;
  if (!Array.isArray(dims) || dims.length !== r) {
    throw new RangeError(`wasm-attention: ${op}: dims must list all ${r} axes of x ${formatShape(x.shape)}, got ${describe(dims)}`);
  }
  const perm = dims.map((d) => normaliseAxis(d, r, op, 'dims'));
  if (new Set(perm).size !== r) {
    throw new RangeError(`wasm-attention: ${op}: dims [${dims.join(', ')}] repeat an axis`);
  }
  const inStrides = new Array<number>(r);
  for (let a = r - 1, s = 1; a >= 0; a--) { inStrides[a] = s; s *= x.shape[a]!; }
  const shape = perm.map((p) => x.shape[p]!);
  const strides = perm.map((p) => inStrides[p]!);
  const out = Tensor.empty(shape, { dtype: x.dtype }) as Tensor<D>;
  if (out.size === 0) return out;
  const src: Float32Array | Uint16Array = x.data, dst: Float32Array | Uint16Array = out.data;
  // Innermost output axis: a contiguous run when it is the input's last axis too.
  const inner = r === 0 ? 1 : shape[r - 1]!, innerStride = r === 0 ? 1 : strides[r - 1]!;
  const idx = new Array<number>(Math.max(r - 1, 0)).fill(0);
  let from = 0;
  for (let o = 0; o < out.size; o += inner) {
    if (innerStride === 1) dst.set(src.subarray(from, from + inner) as never, o);
    else for (let j = 0; j < inner; j++) dst[o + j] = src[from + j * innerStride]!;
    // Odometer over the outer output axes.
    for (let a = r - 2; a >= 0; a--) {
      from += strides[a]!;
      if (++idx[a]! < shape[a]!) break;
      from -= strides[a]! * shape[a]!;
      idx[a] = 0;
    }
  }
  return out;
}

/** Swaps axes `dim0` and `dim1` (a new tensor); see {@link permute}. */
export function transpose<D extends TensorDType>(x: Tensor<D>, dim0: number, dim1: number): Tensor<D> {
  tensorArg(x, 'transpose', 'x', ANY);
  const a = normaliseAxis(dim0, x.rank, 'transpose', 'dim0'), b = normaliseAxis(dim1, x.rank, 'transpose', 'dim1');
  const dims = Array.from({ length: x.rank }, (_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** An axis in `[-rank, rank)` as a non-negative index. */
export function normaliseAxis(axis: unknown, rank: number, op: string, name: string): number {
  if (typeof axis !== 'number' || !Number.isInteger(axis) || axis < -rank || axis >= rank) {
    throw new RangeError(`wasm-attention: ${op}: ${name} ${describe(axis)} is not an axis of a rank-${rank} tensor (use -${rank} … ${rank - 1})`);
  }
  return axis < 0 ? axis + rank : axis;
}
