/**
 * Float64 references for the toolkit, written from the formulas with plain loops
 * (PyTorch's definitions for multi-head attention and the transformer layers).
 */
import { softmaxRow64 } from '../../helpers/reference.js';

/** `y[r, o] = Σ_i x[r, i]·W[o, i] + b[o]` (PyTorch `Linear`, weight `[out, in]`). */
export function linear64(x: ArrayLike<number>, rows: number, inDim: number, w: ArrayLike<number>, outDim: number,
  b?: ArrayLike<number>): Float64Array {
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) for (let o = 0; o < outDim; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inDim; i++) s += x[r * inDim + i]! * w[o * inDim + i]!;
    y[r * outDim + o] = s;
  }
  return y;
}

export interface Mha64 {
  B: number; L: number; S: number; E: number; H: number; Hkv?: number; kdim?: number; vdim?: number;
  x: ArrayLike<number>; ctx?: ArrayLike<number>; val?: ArrayLike<number>;
  wq: ArrayLike<number>; wk: ArrayLike<number>; wv: ArrayLike<number>; wo: ArrayLike<number>;
  bq?: ArrayLike<number>; bk?: ArrayLike<number>; bv?: ArrayLike<number>; bo?: ArrayLike<number>;
  causal?: boolean;
  /** Additive mask at [b, h, i, j]. */
  mask?: (b: number, h: number, i: number, j: number) => number;
  /** [B, S] true = padding. */
  pad?: ArrayLike<boolean | number>;
  /** Rotate q and k (rotate-half RoPE) at these per-row positions before the scores. */
  rope?: { positions: ArrayLike<number>; base: number };
  /** PyTorch add_bias_kv: these `[E_kv]` rows join every sequence's keys/values at the end. */
  biasK?: ArrayLike<number>;
  biasV?: ArrayLike<number>;
  /** PyTorch add_zero_attn: then a zero key/value row. */
  zeroAttn?: boolean;
}

/**
 * Multi-head attention: Q = x·W_qᵀ + b_q (likewise K, V from the context), per head
 * `softmax(Q_h·K_hᵀ/√D + mask)·V_h`, heads concatenated, then `·W_oᵀ + b_o`.
 * Returns the output `[B, L, E]` and the per-head weights `[B, H, L, S]`.
 */
export function mha64(p: Mha64): { out: Float64Array; weights: Float64Array } {
  const { B, L, E, H } = p;
  const S0 = p.S;
  const Hkv = p.Hkv ?? H, kdim = p.kdim ?? E, vdim = p.vdim ?? kdim, D = E / H, Ekv = Hkv * D;
  const ctx = p.ctx ?? p.x, val = p.val ?? ctx;
  let q = linear64(p.x, B * L, E, p.wq, E, p.bq);
  let k = linear64(ctx, B * S0, kdim, p.wk, Ekv, p.bk);
  let v = linear64(val, B * S0, vdim, p.wv, Ekv, p.bv);
  if (p.rope) {
    q = rope64(q, L, E, D, p.rope.positions, 'half', p.rope.base);
    k = rope64(k, S0, Ekv, D, p.rope.positions, 'half', p.rope.base);
  }
  // Extra key/value rows per sequence (F.multi_head_attention_forward: bias_k/bias_v, then zeros).
  const extra: [ArrayLike<number>, ArrayLike<number>][] = [];
  if (p.biasK && p.biasV) extra.push([p.biasK, p.biasV]);
  if (p.zeroAttn) extra.push([new Float64Array(Ekv), new Float64Array(Ekv)]);
  const S = S0 + extra.length;
  if (extra.length > 0) {
    const k2 = new Float64Array(B * S * Ekv), v2 = new Float64Array(B * S * Ekv);
    for (let b = 0; b < B; b++) {
      k2.set(k.subarray(b * S0 * Ekv, (b + 1) * S0 * Ekv), b * S * Ekv);
      v2.set(v.subarray(b * S0 * Ekv, (b + 1) * S0 * Ekv), b * S * Ekv);
      extra.forEach(([bk, bv], e) => { k2.set(bk, (b * S + S0 + e) * Ekv); v2.set(bv, (b * S + S0 + e) * Ekv); });
    }
    k = k2;
    v = v2;
  }
  const concat = new Float64Array(B * L * E);
  const weights = new Float64Array(B * H * L * S);
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const hk = Math.floor(h / (H / Hkv));
    for (let i = 0; i < L; i++) {
      const s = new Float64Array(S);
      for (let j = 0; j < S; j++) {
        let dot = 0;
        for (let t = 0; t < D; t++) dot += q[(b * L + i) * E + h * D + t]! * k[(b * S + j) * Ekv + hk * D + t]!;
        let x = dot / Math.sqrt(D);
        if (p.causal && j > i + S - L) x = -Infinity;
        if (j < S0) { // the extra rows are never masked
          if (p.mask) x += p.mask(b, h, i, j);
          if (p.pad && p.pad[b * S0 + j]) x = -Infinity;
        }
        s[j] = x;
      }
      const a = softmaxRow64(s);
      weights.set(a, ((b * H + h) * L + i) * S);
      for (let t = 0; t < D; t++) {
        let sum = 0;
        for (let j = 0; j < S; j++) sum += a[j]! * v[(b * S + j) * Ekv + hk * D + t]!;
        concat[(b * L + i) * E + h * D + t] = sum;
      }
    }
  }
  return { out: linear64(concat, B * L, E, p.wo, E, p.bo), weights };
}

/** Per-row LayerNorm (biased variance) or, without beta, RMSNorm. */
export function norm64(x: ArrayLike<number>, E: number, gamma: ArrayLike<number>, beta: ArrayLike<number> | null,
  eps: number): Float64Array {
  const y = new Float64Array(x.length);
  for (let r = 0; r < x.length / E; r++) {
    const row = Array.from({ length: E }, (_, c) => x[r * E + c]!);
    const mean = beta ? row.reduce((a, b) => a + b, 0) / E : 0;
    const ms = row.reduce((a, b) => a + (b - mean) ** 2, 0) / E;
    for (let c = 0; c < E; c++) y[r * E + c] = ((row[c]! - mean) / Math.sqrt(ms + eps)) * gamma[c]! + (beta ? beta[c]! : 0);
  }
  return y;
}

/** erf by composite Simpson quadrature of (2/√π)·e^(−t²) over [0, x] (independent of the series). */
export function erf64(x: number): number {
  const n = 2000; // even
  const h = x / n;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < n; i++) s += (i % 2 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return (s * h) / 3 * (2 / Math.sqrt(Math.PI));
}

export const gelu64 = (x: number) => 0.5 * x * (1 + erf64(x / Math.SQRT2));
/** tanh written from exponentials, so the reference does not share Math.tanh with the implementation. */
const tanh64 = (x: number) => (x > 20 ? 1 : x < -20 ? -1 : (Math.exp(2 * x) - 1) / (Math.exp(2 * x) + 1));
/** GELU, tanh approximation (PyTorch approximate='tanh'): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))). */
export const geluTanh64 = (x: number) => 0.5 * x * (1 + tanh64(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
/** SiLU: x·sigmoid(x). */
export const silu64 = (x: number) => x * (1 / (1 + Math.exp(-x)));
export const relu64 = (x: number) => Math.max(0, x);

export interface Ffn64 { w1: ArrayLike<number>; b1?: ArrayLike<number>; w2: ArrayLike<number>; b2?: ArrayLike<number>; F: number }

/** `act(x·W₁ᵀ + b₁)·W₂ᵀ + b₂`. */
export function ffn64(x: ArrayLike<number>, rows: number, E: number, p: Ffn64, act: (x: number) => number): Float64Array {
  const h = linear64(x, rows, E, p.w1, p.F, p.b1).map(act);
  return linear64(h, rows, p.F, p.w2, E, p.b2);
}

/** `down(act(x·Gᵀ) ⊙ (x·Uᵀ))` (LLaMA's MLP). */
export function gatedFfn64(x: ArrayLike<number>, rows: number, E: number, F: number, gate: ArrayLike<number>,
  up: ArrayLike<number>, down: ArrayLike<number>, act: (x: number) => number): Float64Array {
  const g = linear64(x, rows, E, gate, F), u = linear64(x, rows, E, up, F);
  return linear64(g.map((v, i) => act(v) * u[i]!), rows, F, down, E);
}

/** `LN(x + y)` row-wise. */
export function addNorm64(x: ArrayLike<number>, y: ArrayLike<number>, E: number, gamma: ArrayLike<number>,
  beta: ArrayLike<number>, eps = 1e-5): Float64Array {
  return norm64(Array.from(x, (a, i) => a + y[i]!), E, gamma, beta, eps);
}

/**
 * RoPE reference as a complex rotation: for `x [..., L, C]` split into heads of `Dh`, pair
 * k of a head is the complex number z = a + i·b, replaced by z·e^(i·pos·θ_k), θ_k = base^(−2k/rot).
 */
export function rope64(x: ArrayLike<number>, L: number, C: number, Dh: number, positions: ArrayLike<number>,
  style: 'half' | 'interleaved', base = 10000, rot = Dh): Float64Array {
  const y = Float64Array.from(x);
  for (let r = 0; r < x.length / C; r++) {
    const pos = positions[r % L]!;
    for (let h = 0; h < C / Dh; h++) {
      const at = r * C + h * Dh;
      for (let k = 0; k < rot / 2; k++) {
        const [ia, ib] = style === 'half' ? [at + k, at + k + rot / 2] : [at + 2 * k, at + 2 * k + 1];
        const angle = pos * base ** (-(2 * k) / rot);
        const re = Math.cos(angle), im = Math.sin(angle);
        const a = x[ia]!, b = x[ib]!;
        y[ia] = a * re - b * im;
        y[ib] = a * im + b * re;
      }
    }
  }
  return y;
}

/** PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(pos / 10000^(2i/d)). */
export function sinusoid64(length: number, d: number): Float64Array {
  const pe = new Float64Array(length * d);
  for (let pos = 0; pos < length; pos++) for (let c = 0; c < d; c++) {
    const i = Math.floor(c / 2);
    const angle = pos / 10000 ** ((2 * i) / d);
    pe[pos * d + c] = c % 2 === 0 ? Math.sin(angle) : Math.cos(angle);
  }
  return pe;
}
