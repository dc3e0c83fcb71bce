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

/** `x` rounded to the nearest binary16 value (ties to even; ±65520 and beyond → ±Infinity), in float64. */
export function f16Round(x: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const a = Math.abs(x);
  if (a >= 65520) return Math.sign(x) * Infinity;
  const e = Math.max(Math.floor(Math.log2(a)), -14);
  let ulp = 2 ** (e - 10);
  if (a / ulp >= 2048) ulp *= 2; // log2 rounded down past a power of two
  const q = a / ulp, f = Math.floor(q), r = q - f;
  const n = r > 0.5 || (r === 0.5 && f % 2 === 1) ? f + 1 : f;
  return Math.sign(x) * n * ulp;
}

/**
 * The values a ggml-style q8_0 / q4_0 quantisation of `rows × cols` float32 values
 * stands for, from the format's definition: per block of 32 of a row, q8_0
 * `d = max|x|/127`, `q = round(x·(1/d))` (half away from zero), q4_0 `d = m/−8` with `m`
 * the signed value of largest magnitude, `q = min(15, trunc(x·(1/d) + 8.5)) − 8`; the
 * stored scale is `d` rounded to float16; value = scale·q. Float32 steps are emulated
 * with `Math.fround` so that codes equal those of a float32 implementation.
 */
export function quantize64(format: 'q8_0' | 'q4_0', data: ArrayLike<number>, rows: number, cols: number): Float64Array {
  const out = new Float64Array(rows * cols);
  const f = Math.fround;
  for (let r = 0; r < rows; r++) {
    for (let b0 = 0; b0 < cols; b0 += 32) {
      const b1 = Math.min(b0 + 32, cols);
      let amax = 0, big = 0;
      for (let c = b0; c < b1; c++) {
        const v = data[r * cols + c]!;
        if (Math.abs(v) > amax) { amax = Math.abs(v); big = v; }
      }
      const d = format === 'q8_0' ? f(amax / 127) : f(big / -8);
      const id = d !== 0 ? f(1 / d) : 0;
      const scale = f16Round(d);
      for (let c = b0; c < b1; c++) {
        const t = f(data[r * cols + c]! * id);
        const q = format === 'q8_0'
          ? Math.max(-127, Math.min(127, Math.sign(t) * Math.round(Math.abs(t))))
          : Math.min(15, Math.trunc(f(t + 8.5))) - 8;
        out[r * cols + c] = scale * q;
      }
    }
  }
  return out;
}

/**
 * `y = x·Wᵀ + bias` in float64 for `x [m, k]`, `w [n, k]`, and per output the bound of
 * int8 activation quantisation per block of 32: `Σ_blocks max|x_block|/254 · Σ_block |w|`,
 * and `Σ|x·w|` (for float32 rounding allowances).
 */
export function linear64(
  x: ArrayLike<number>, w: ArrayLike<number>, m: number, k: number, n: number, bias?: ArrayLike<number>,
): { y: Float64Array; qbound: Float64Array; mag: Float64Array } {
  const y = new Float64Array(m * n), qbound = new Float64Array(m * n), mag = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0, e = 0, a = 0;
      for (let b0 = 0; b0 < k; b0 += 32) {
        let amax = 0, wsum = 0;
        for (let p = b0; p < Math.min(b0 + 32, k); p++) {
          const xv = x[i * k + p]!, wv = w[j * k + p]!;
          amax = Math.max(amax, Math.abs(xv));
          wsum += Math.abs(wv);
          s += xv * wv;
          a += Math.abs(xv * wv);
        }
        e += amax / 254 * wsum;
      }
      const bv = bias ? bias[j]! : 0;
      y[i * n + j] = s + bv;
      qbound[i * n + j] = e;
      mag[i * n + j] = a + Math.abs(bv);
    }
  }
  return { y, qbound, mag };
}
