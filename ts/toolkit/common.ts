/**
 * Argument checks and small kernels shared by the toolkit: parameter vectors,
 * weight matrices copied into WASM memory, and a strided `x·Wᵀ` on the GEMM.
 * @internal
 */
import * as raw from '../raw.js';
import { Tensor } from '../tensor.js';
import { describe, formatShape } from '../shape.js';
import { tensorArg } from '../ops/args.js';
import { addRows } from '../ops/elementwise.js';

/** A parameter vector or matrix: a Tensor, or numbers copied when used. */
export type Floats = Tensor | ArrayLike<number>;

/** Reads `x` (Tensor or array) as a flat list of exactly `n` numbers, checked. */
export function floatsArg(x: unknown, n: number, op: string, name: string): ArrayLike<number> {
  if (x instanceof Tensor) {
    const t = tensorArg(x, op, name);
    if (t.size !== n) {
      throw new RangeError(`wasm-attention: ${op}: ${name} has shape ${formatShape(t.shape)} (${t.size} values), expected ${n}`);
    }
    return t.data;
  }
  const a = x as ArrayLike<number> | null | undefined;
  if (a == null || typeof a !== 'object' || typeof a.length !== 'number') {
    throw new TypeError(`wasm-attention: ${op}: ${name} must be a Tensor or an array of numbers, got ${describe(x)}`);
  }
  raw.checkAttached(a, `${op}: ${name}`);
  if (a.length !== n) {
    throw new RangeError(`wasm-attention: ${op}: ${name} has ${a.length} values, expected ${n}`);
  }
  return a;
}

/** Size of the last axis, after checking `x` is a live tensor of rank within `[min, max]`. */
export function lastAxis(x: unknown, op: string, name: string, min = 1, max = Infinity): number {
  const t = tensorArg(x, op, name);
  if (t.rank < min || t.rank > max) {
    throw new RangeError(
      `wasm-attention: ${op}: ${name} must have ${min}${max === Infinity ? ' or more' : `–${max}`} axes, got ${formatShape(t.shape)}`);
  }
  return t.shape[t.rank - 1]!;
}

/**
 * `y = x · Wᵀ` on the GEMM kernel for row-major blocks addressed by byte pointers:
 * `x` is `[rows, inDim]` with row stride `ldx`, `W` is `[outDim, inDim]` (PyTorch's
 * `Linear.weight` layout) and `y` is `[rows, outDim]` with row stride `ldy` (so a
 * projection can be written straight into a column range of a wider buffer).
 */
export function linearInto(xPtr: number, ldx: number, rows: number, inDim: number, wPtr: number,
  outDim: number, yPtr: number, ldy: number, op: string): void {
  if (rows === 0 || outDim === 0) return;
  raw.check(raw.wasm().wa_sgemm(rows, inDim, outDim, 1, xPtr, ldx, wPtr, inDim, 1, 0, yPtr, ldy), op);
}

/** Adds `bias[offset .. offset + cols)` to every row of a strided `[rows, cols]` block at element `at`. */
export function addBiasRows(at: number, rows: number, cols: number, ld: number, bias: Tensor, offset = 0): void {
  if (rows === 0 || cols === 0) return;
  addRows(at * 4, ld, bias.ptr + offset * 4, at * 4, ld, rows, cols, 'add');
}

/** Disposes every tensor given, ignoring nulls. */
export function disposeAll(...ts: (Tensor | null | undefined)[]): void {
  for (const t of ts) t?.dispose();
}
