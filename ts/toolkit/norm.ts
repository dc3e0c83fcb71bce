/**
 * Normalisation over the last axis on the WASM kernel (crates/kernels/src/elementwise/norm.rs:
 * corrected two-pass statistics, eight float32 partial sums combined in float64):
 * - LayerNorm (Ba et al. 2016): `y = (x − mean) / √(var + ε) · γ + β`, `var` the biased
 *   (population) variance, as PyTorch's `nn.LayerNorm`;
 * - RMSNorm (Zhang & Sennrich 2019): `y = x / √(mean(x²) + ε) · γ`.
 */
import { Tensor } from '../tensor.js';
import { outArg, tensorArg } from '../ops/args.js';
import { normRows, stage, type Staged } from '../ops/elementwise.js';
import { checkAttached, stableSource } from '../raw.js';
import { formatShape, sameShape } from '../shape.js';
import { type Floats, floatsArg, lastAxis } from './common.js';

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance. @defaultValue 1e-5 */
  eps?: number;
  /** Where to write the result; may be `x` (in place). @defaultValue a new tensor */
  out?: Tensor;
  /**
   * Added into `x` first, in one pass with the statistics (`x ← x + residual`, then the
   * norm of the sum): a transformer's residual connection. `x` is modified. Same shape as `x`.
   * @defaultValue none
   */
  residual?: Tensor;
}

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** Added to the mean square. @defaultValue 1e-6 */
  eps?: number;
  /** Where to write the result; may be `x` (in place). @defaultValue a new tensor */
  out?: Tensor;
  /**
   * Added into `x` first, in one pass with the statistics (`x ← x + residual`, then the
   * norm of the sum): a transformer's residual connection. `x` is modified. Same shape as `x`.
   * @defaultValue none
   */
  residual?: Tensor;
}

/** LayerNorm of `x [..., E]` with `gamma`, `beta` of `E` values. */
export function layerNorm(x: Tensor, gamma: Floats, beta: Floats, options: LayerNormOptions = {}): Tensor {
  return normalise('layerNorm', x, gamma, beta, options.eps ?? 1e-5, options.out, options.residual);
}

/** RMSNorm of `x [..., E]` with `gamma` of `E` values. */
export function rmsNorm(x: Tensor, gamma: Floats, options: RmsNormOptions = {}): Tensor {
  return normalise('rmsNorm', x, gamma, null, options.eps ?? 1e-6, options.out, options.residual);
}

function normalise(op: string, x: Tensor, gamma: Floats, beta: Floats | null, eps: number, outOpt?: Tensor,
  residual?: Tensor): Tensor {
  const E = lastAxis(x, op, 'x');
  if (typeof eps !== 'number' || !(eps >= 0)) throw new RangeError(`wasm-attention: ${op}: eps must be ≥ 0, got ${eps}`);
  if (residual !== undefined) {
    tensorArg(residual, op, 'residual');
    if (!sameShape(residual.shape, x.shape)) {
      throw new RangeError(`wasm-attention: ${op}: residual has shape ${formatShape(residual.shape)}, expected ${formatShape(x.shape)}`);
    }
  }
  checkAttached(gamma, `${op}: gamma`);
  if (beta !== null) checkAttached(beta, `${op}: beta`);
  floatsArg(gamma, E, op, `gamma [${E}]`);
  if (beta !== null) floatsArg(beta, E, op, `beta [${E}]`);
  // Parameters are staged before `out` is allocated: an allocation may grow memory and
  // detach a view of it passed as gamma/beta.
  let g: Staged | null = null, b: Staged | null = null, out: Tensor | null = null;
  try {
    // Copies of both views first: staging gamma allocates, which could detach beta's view.
    const gs = gamma instanceof Tensor ? gamma : stableSource(gamma, `${op}: gamma`);
    const bs = beta === null || beta instanceof Tensor ? beta : stableSource(beta, `${op}: beta`);
    g = stage(gs);
    b = stage(bs);
    out = outOpt === x ? x : outArg(outOpt, x.shape, op, {});
    if (x.size > 0) {
      normRows(x.ptr, residual?.ptr ?? 0, out.ptr, x.size / E, E, g.ptr, b.ptr, eps, op);
    }
  } catch (e) {
    if (out !== null && out !== outOpt && out !== x) out.dispose();
    throw e;
  } finally {
    if (g) g.release();
    if (b) b.release();
  }
  return out;
}
