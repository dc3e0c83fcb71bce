/**
 * Axis permutation as a copy into a new contiguous tensor (PyTorch `x.permute(*dims).contiguous()`,
 * `x.transpose(a, b).contiguous()`; ONNX `Transpose(perm)`).
 *
 * The copy walks the output in order and the input with the permuted strides, one
 * contiguous run of the innermost axis at a time when that axis stays last.
 */
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';

/** `out[i₀, …, iₙ] = x[…]` with `out.shape[a] = x.shape[dims[a]]`; a new tensor. Negative axes count from the end. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const op = 'permute';
  tensorArg(x, op, 'x');
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
  const out = Tensor.empty(shape);
  if (out.size === 0) return out;
  const src = x.data, dst = out.data;
  // Innermost output axis: a contiguous run when it is the input's last axis too.
  const inner = r === 0 ? 1 : shape[r - 1]!, innerStride = r === 0 ? 1 : strides[r - 1]!;
  const idx = new Array<number>(Math.max(r - 1, 0)).fill(0);
  let from = 0;
  for (let o = 0; o < out.size; o += inner) {
    if (innerStride === 1) dst.set(src.subarray(from, from + inner), o);
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
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  tensorArg(x, 'transpose', 'x');
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
