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

/** Options of the float64 attention reference (same meaning as the library's). */
export interface Attention64Options {
  causal?: boolean;
  scale?: number;
  window?: [number, number];
  softcap?: number;
  alibi?: ArrayLike<number>;
  sinks?: ArrayLike<number>;
  /** Additive mask value at [b, h, i, j]. */
  mask?: (b: number, h: number, i: number, j: number) => number;
  /** Key position of query row 0. @defaultValue Lk − Lq */
  causalOffset?: number;
}

/**
 * Attention in float64 from the definition: for every query row, the full score
 * row, its softmax and the weighted sum of value rows. Contiguous
 * `q [B,Hq,Lq,D]`, `k [B,Hkv,Lk,D]`, `v [B,Hkv,Lk,Dv]`; returns out and lse.
 */
export function attention64(
  q: ArrayLike<number>, k: ArrayLike<number>, v: ArrayLike<number>,
  B: number, Hq: number, Hkv: number, Lq: number, Lk: number, D: number, Dv: number,
  o: Attention64Options = {},
): { out: Float64Array; lse: Float64Array; weights: Float64Array } {
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(B * Hq * Lq * Dv);
  const lse = new Float64Array(B * Hq * Lq);
  const weights = new Float64Array(B * Hq * Lq * Lk);
  const g = Hq / Hkv;
  for (let b = 0; b < B; b++) for (let h = 0; h < Hq; h++) {
    const hk = Math.floor(h / g);
    for (let i = 0; i < Lq; i++) {
      const pos = i + (o.causalOffset ?? Lk - Lq);
      const s = new Float64Array(Lk);
      for (let j = 0; j < Lk; j++) {
        if ((o.causal && j > pos) || (o.window && (j < pos - o.window[0] || j > pos + o.window[1]))) {
          s[j] = -Infinity;
          continue;
        }
        let dot = 0;
        for (let t = 0; t < D; t++) dot += q[((b * Hq + h) * Lq + i) * D + t]! * k[((b * Hkv + hk) * Lk + j) * D + t]!;
        let x = dot * scale;
        if (o.softcap) x = o.softcap * Math.tanh(x / o.softcap);
        if (o.alibi) x -= o.alibi[h]! * Math.abs(pos - j);
        if (o.mask) x += o.mask(b, h, i, j);
        s[j] = x;
      }
      let max = -Infinity;
      for (let j = 0; j < Lk; j++) max = Math.max(max, s[j]!);
      if (o.sinks) max = Math.max(max, o.sinks[h]!);
      const row = (b * Hq + h) * Lq + i;
      if (max === -Infinity) { lse[row] = -Infinity; continue; }
      let sum = o.sinks ? Math.exp(o.sinks[h]! - max) : 0;
      for (let j = 0; j < Lk; j++) sum += Math.exp(s[j]! - max);
      lse[row] = max + Math.log(sum);
      for (let j = 0; j < Lk; j++) {
        const p = Math.exp(s[j]! - max) / sum;
        weights[row * Lk + j] = p;
        for (let t = 0; t < Dv; t++) out[row * Dv + t] += p * v[((b * Hkv + hk) * Lk + j) * Dv + t]!;
      }
    }
  }
  return { out, lse, weights };
}
