/**
 * Normalisation over the last axis (statistics accumulated in float64, one row at a time):
 * - LayerNorm (Ba et al. 2016): `y = (x − mean) / √(var + ε) · γ + β`, `var` the biased
 *   (population) variance, as PyTorch's `nn.LayerNorm`;
 * - RMSNorm (Zhang & Sennrich 2019): `y = x / √(mean(x²) + ε) · γ`.
 */
import { Tensor } from '../tensor.js';
import { outArg } from '../ops/args.js';
import { checkAttached } from '../raw.js';
import { type Floats, floatsArg, lastAxis } from './common.js';

/** Options of {@link layerNorm}. */
export interface LayerNormOptions {
  /** Added to the variance. @defaultValue 1e-5 */
  eps?: number;
  /** Where to write the result; may be `x` (in place). @defaultValue a new tensor */
  out?: Tensor;
}

/** Options of {@link rmsNorm}. */
export interface RmsNormOptions {
  /** Added to the mean square. @defaultValue 1e-6 */
  eps?: number;
  /** Where to write the result; may be `x` (in place). @defaultValue a new tensor */
  out?: Tensor;
}

/** LayerNorm of `x [..., E]` with `gamma`, `beta` of `E` values. */
export function layerNorm(x: Tensor, gamma: Floats, beta: Floats, options: LayerNormOptions = {}): Tensor {
  return normalise('layerNorm', x, gamma, beta, options.eps ?? 1e-5, options.out);
}

/** RMSNorm of `x [..., E]` with `gamma` of `E` values. */
export function rmsNorm(x: Tensor, gamma: Floats, options: RmsNormOptions = {}): Tensor {
  return normalise('rmsNorm', x, gamma, null, options.eps ?? 1e-6, options.out);
}

function normalise(op: string, x: Tensor, gamma: Floats, beta: Floats | null, eps: number, outOpt?: Tensor): Tensor {
  const E = lastAxis(x, op, 'x');
  if (typeof eps !== 'number' || !(eps >= 0)) throw new RangeError(`wasm-attention: ${op}: eps must be ≥ 0, got ${eps}`);
  // Parameters are checked and copied before `out` is allocated: a bad one then leaks
  // nothing, and views of WASM memory are read before growth can detach them.
  checkAttached(gamma, `${op}: gamma`);
  if (beta !== null) checkAttached(beta, `${op}: beta`);
  const g = Float64Array.from(floatsArg(gamma, E, op, `gamma [${E}]`));
  const b = beta === null ? null : Float64Array.from(floatsArg(beta, E, op, `beta [${E}]`));
  const out = outOpt === x ? x : outArg(outOpt, x.shape, op, {});
  const xd = x.data, od = out.data;
  for (let r = 0; r < x.size; r += E) {
    let mean = 0;
    if (b !== null) {
      for (let c = 0; c < E; c++) mean += xd[r + c]!;
      mean /= E;
    }
    let sq = 0;
    for (let c = 0; c < E; c++) { const t = xd[r + c]! - mean; sq += t * t; }
    const inv = 1 / Math.sqrt(sq / E + eps);
    for (let c = 0; c < E; c++) od[r + c] = (xd[r + c]! - mean) * inv * g[c]! + (b === null ? 0 : b[c]!);
  }
  return out;
}
