/** Matrix product on the WASM GEMM kernel. */
import * as raw from '../raw.js';
import { dtypeCode, dtypeSize, type TensorDType } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { formatShape, sameShape } from '../shape.js';
import { numberArg, outArg, product, tensorArg } from './args.js';

/** Options of {@link matmul}. */
export interface MatmulOptions {
  /** Use `b` as `[..., n, k]` and multiply by its transpose (e.g. `Q·Kᵀ`). @defaultValue false */
  transposeB?: boolean;
  /** Scales the product. @defaultValue 1 */
  alpha?: number;
  /** Adds `beta · out` (only with `out`); `0` never reads `out`. @defaultValue 0 */
  beta?: number;
  /** Where to write the result; a new tensor when omitted. */
  out?: Tensor;
}

/**
 * `alpha · a · op(b) (+ beta · out)` with `a [..., m, k]` and `b [..., k, n]` (with
 * `transposeB`, `b [..., n, k]`). The leading (batch) axes broadcast as in NumPy and
 * `torch.matmul`: aligned from the right, a missing axis or a size of 1 repeats, so
 * `[2, 1, m, k]·[1, 3, k, n]` gives `[2, 3, m, n]`, a 2-D `b` is shared by every batch
 * and a 2-D `a` multiplies every batch of `b`. Returns `[...batch, m, n]` in WASM memory.
 *
 * `b` may be stored as float16 or bfloat16 (e.g. a Linear weight `[out, in]` with
 * `transposeB`): the kernel widens it exactly to float32 while it packs B, so the
 * product equals that of `b.to('float32')` without a float32 copy. `a` and `out` are float32.
 *
 * With `transposeB`, a 2-D `b` and at most 16 rows of `a` in all (e.g. one decoding
 * token times a `[out, in]` weight), the product runs on the matrix–vector kernel of
 * {@link linear}, which reads `b` once where it lies instead of packing it.
 */
export function matmul(a: Tensor, b: Tensor<TensorDType>, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  tensorArg(a, op, 'a');
  tensorArg(b, op, 'b', ['float32', 'float16', 'bfloat16']);
  const transB = options.transposeB === true;
  const alpha = numberArg(options.alpha, 1, op, 'alpha');
  const beta = numberArg(options.beta, 0, op, 'beta');
  if (a.rank < 2 || b.rank < 2) {
    throw new RangeError(
      `wasm-attention: ${op}: a and b need at least 2 axes, got a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  const [m, k] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const [kb, n] = transB ? [bc, br] : [br, bc];
  if (kb !== k) {
    throw new RangeError(
      `wasm-attention: ${op}: inner sizes differ: a ${formatShape(a.shape)} has k=${k} but b ` +
      `${formatShape(b.shape)}${transB ? ' (transposed)' : ''} has k=${kb}`);
  }
  const aBatch = a.shape.slice(0, -2), bBatch = b.shape.slice(0, -2);
  const batchDims = broadcastBatch(aBatch, bBatch, a, b as Tensor, op);
  if (options.beta !== undefined && beta !== 0 && options.out === undefined) {
    throw new RangeError(`wasm-attention: ${op}: beta=${beta} needs an out tensor to accumulate into`);
  }
  const out = outArg(options.out, [...batchDims, m, n], op, { a, b: b as Tensor });
  const batches = product(batchDims);
  const w = raw.wasm();
  const ldb = transB ? k : n, tb = transB ? 1 : 0;
  const bCode = dtypeCode(b.dtype), bSize = dtypeSize(b.dtype);
  if (transB && b.rank === 2 && alpha === 1 && beta === 0) {
    // Rows against one [n, k] matrix: a Linear product; the kernels pick the matrix–vector
    // kernel (a row or two, streaming b once) or the GEMM.
    raw.check(w.wa_linear(batches * m, k, n, a.ptr, k, b.ptr, bCode, 0, out.ptr, n), op);
    return out;
  }
  if (product(bBatch) === 1 && sameShape(batchDims, aBatch) && batches > 1) {
    // One shared B: the batch folds into the rows of a single GEMM.
    raw.check(w.wa_gemm(batches * m, k, n, alpha, a.ptr, k, b.ptr, ldb, tb, bCode, beta, out.ptr, n), op);
    return out;
  }
  // Element offsets of each output batch in a and b (stride 0 along broadcast axes).
  const aStep = batchStrides(aBatch, batchDims, m * k), bStep = batchStrides(bBatch, batchDims, k * n);
  const idx = new Array<number>(batchDims.length).fill(0);
  let ao = 0, bo = 0;
  for (let i = 0; i < batches; i++) {
    raw.check(w.wa_gemm(m, k, n, alpha, a.ptr + ao * 4, k, b.ptr + bo * bSize, ldb, tb, bCode,
      beta, out.ptr + i * m * n * 4, n), op);
    for (let d = batchDims.length - 1; d >= 0; d--) {
      ao += aStep[d]!;
      bo += bStep[d]!;
      if (++idx[d]! < batchDims[d]!) break;
      ao -= aStep[d]! * batchDims[d]!;
      bo -= bStep[d]! * batchDims[d]!;
      idx[d] = 0;
    }
  }
  return out;
}

/** The broadcast of two batch shapes (NumPy rules), or a RangeError naming both operands. */
function broadcastBatch(x: readonly number[], y: readonly number[], a: Tensor, b: Tensor, op: string): number[] {
  const r = Math.max(x.length, y.length);
  const out = new Array<number>(r);
  for (let i = 0; i < r; i++) {
    const dx = x[x.length - r + i] ?? 1, dy = y[y.length - r + i] ?? 1;
    if (dx !== dy && dx !== 1 && dy !== 1) {
      throw new RangeError(
        `wasm-attention: ${op}: batch sizes do not broadcast: a ${formatShape(a.shape)} and b ${formatShape(b.shape)} ` +
        `(batch axis ${i - r} has ${dx} and ${dy})`);
    }
    out[i] = dx === 1 ? dy : dx;
  }
  return out;
}

/** Per output batch axis, the element stride of an operand with batch shape `own` (0 where it broadcasts). */
function batchStrides(own: readonly number[], full: readonly number[], matrix: number): number[] {
  const s = new Array<number>(full.length).fill(0);
  let stride = matrix;
  for (let i = own.length - 1; i >= 0; i--) {
    const at = full.length - own.length + i;
    if (own[i] !== 1) s[at] = stride;
    stride *= own[i]!;
  }
  return s;
}
