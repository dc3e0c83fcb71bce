/** Matrix product on the WASM GEMM kernel. */
import * as raw from '../raw.js';
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
 * `alpha · a · op(b) (+ beta · out)`: `a` is `[..., m, k]`, `b` is `[k, n]` (shared by
 * every batch) or `[..., k, n]` with the same leading sizes as `a`; with `transposeB`,
 * `b` is `[n, k]` / `[..., n, k]`. Returns `[..., m, n]` in WASM memory.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const op = 'matmul';
  tensorArg(a, op, 'a');
  tensorArg(b, op, 'b');
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
  const batchDims = a.shape.slice(0, -2);
  const bBatch = b.shape.slice(0, -2);
  if (bBatch.length > 0 && !sameShape(batchDims, bBatch)) {
    throw new RangeError(
      `wasm-attention: ${op}: batch sizes differ: a ${formatShape(a.shape)} and b ${formatShape(b.shape)}`);
  }
  if (options.beta !== undefined && beta !== 0 && options.out === undefined) {
    throw new RangeError(`wasm-attention: ${op}: beta=${beta} needs an out tensor to accumulate into`);
  }
  const out = outArg(options.out, [...batchDims, m, n], op, { a, b });
  const batches = product(batchDims);
  const w = raw.wasm();
  if (bBatch.length === 0 && batches > 1) {
    // One shared B: the batch folds into the rows of a single GEMM.
    raw.check(w.wa_sgemm(batches * m, k, n, alpha, a.ptr, k, b.ptr, transB ? k : n, transB ? 1 : 0,
      beta, out.ptr, n), op);
    return out;
  }
  for (let i = 0; i < batches; i++) {
    raw.check(w.wa_sgemm(m, k, n, alpha, a.ptr + i * m * k * 4, k, b.ptr + i * k * n * 4, transB ? k : n,
      transB ? 1 : 0, beta, out.ptr + i * m * n * 4, n), op);
  }
  return out;
}
