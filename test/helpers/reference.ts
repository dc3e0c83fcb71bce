/**
 * Float64 references, written independently of the kernels and of the TS
 * baselines: plain loops straight from the formulas.
 */

/** `C = alpha·A·op(B) + beta·C0` in float64. */
export function matmul64(
  a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number,
  opts: { transB?: boolean; alpha?: number; beta?: number; c0?: ArrayLike<number> } = {},
): Float64Array {
  const { transB = false, alpha = 1, beta = 0, c0 } = opts;
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * k + p]! * (transB ? b[j * k + p]! : b[p * n + j]!);
      c[i * n + j] = alpha * s + (beta !== 0 && c0 ? beta * c0[i * n + j]! : 0);
    }
  }
  return c;
}

/** Softmax of one row in float64; rows with no finite-or-+inf max give zeros. */
export function softmaxRow64(row: ArrayLike<number>): Float64Array {
  const out = new Float64Array(row.length);
  let max = -Infinity;
  for (let j = 0; j < row.length; j++) max = Math.max(max, row[j]!);
  if (Number.isNaN(max)) return out.fill(NaN);
  if (max === -Infinity) return out;
  let sum = 0;
  for (let j = 0; j < row.length; j++) { out[j] = Math.exp(row[j]! - max); sum += out[j]!; }
  for (let j = 0; j < row.length; j++) out[j] = out[j]! / sum;
  return out;
}

/** Deterministic uniform values in [lo, hi) (mulberry32). */
export function randoms(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/**
 * Largest |got − want| / (atol + rtol·|want|) with its index; ≤ 1 means within tolerance.
 * NaN must match NaN and ±Infinity must match exactly.
 */
export function worstError(
  got: ArrayLike<number>, want: ArrayLike<number>, atol: number, rtol: number,
): { ratio: number; index: number; got: number; want: number } {
  if (got.length !== want.length) throw new Error(`length ${got.length} != ${want.length}`);
  let worst = { ratio: 0, index: -1, got: 0, want: 0 };
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!, w = want[i]!;
    let ratio: number;
    if (Number.isNaN(w) || Number.isNaN(g)) ratio = Number.isNaN(w) && Number.isNaN(g) ? 0 : Infinity;
    else if (!Number.isFinite(w) || !Number.isFinite(g)) ratio = g === w ? 0 : Infinity;
    else ratio = Math.abs(g - w) / (atol + rtol * Math.abs(w));
    if (ratio > worst.ratio) worst = { ratio, index: i, got: g, want: w };
  }
  return worst;
}
