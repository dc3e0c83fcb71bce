/**
 * The error function in float64, for the exact GELU on single numbers (tensors go through
 * the float32 kernel of `applyActivation`).
 *
 * Uses the everywhere-convergent series with only positive terms (no cancellation):
 * `erf(x) = (2/√π)·e^(−x²)·Σ_{n≥0} 2ⁿ·x^(2n+1) / (1·3·5···(2n+1))`.
 * Term `n` is term `n−1` times `2x²/(2n+1)`; the sum stops once a term no longer
 * changes it. For `|x| ≥ 6`, `1 − |erf(x)| < 3·10⁻¹⁷`, so the result is `±1`.
 * Accuracy is about `1e-15` relative (the tests check ≤ 1e-12 against quadrature).
 */

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** `erf(x) = (2/√π)·∫₀ˣ e^(−t²) dt`. */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = 2 * ax * ax;
  let term = ax, sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}

/** Exact GELU: `x·Φ(x) = x/2·(1 + erf(x/√2))`. */
export function gelu(x: number): number {
  return 0.5 * x * (1 + erf(x * Math.SQRT1_2));
}
