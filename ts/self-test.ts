/**
 * Start-up self-test: a small attention problem with a known answer, run on the
 * freshly instantiated binary. Engines have shipped broken SIMD before; if the
 * SIMD build gets this wrong, `init()` switches to the scalar build.
 */
import { Tensor } from './tensor.js';
import { attention } from './ops/attention.js';

/**
 * Runs causal attention on `[2 heads, 5 tokens, 8 dims]` inputs with GQA off and
 * compares it with the same computation in float64; returns a description of the
 * first mismatch, or null when every value agrees to 1e-5.
 */
export function selfTest(): string | null {
  const H = 2, L = 5, D = 8;
  const q = values(H * L * D, 3), k = values(H * L * D, 5), v = values(H * L * D, 7);
  const want = reference(q, k, v, H, L, D);
  const qt = Tensor.from(q, [H, L, D]), kt = Tensor.from(k, [H, L, D]), vt = Tensor.from(v, [H, L, D]);
  try {
    const out = attention(qt, kt, vt, { causal: true });
    const got = out.toArray();
    out.dispose();
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i]! - want[i]!) <= 1e-5)) return `output[${i}] is ${got[i]}, expected ${want[i]}`;
    }
    return null;
  } catch (e) {
    return `attention threw: ${(e as Error).message}`;
  } finally {
    qt.dispose(); kt.dispose(); vt.dispose();
  }
}

/** Small deterministic values in (−1, 1). */
function values(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * (i + 1) * 0.7) * 0.9);
  return out;
}

function reference(q: Float64Array, k: Float64Array, v: Float64Array, H: number, L: number, D: number): Float64Array {
  const out = new Float64Array(H * L * D);
  const scale = 1 / Math.sqrt(D);
  for (let h = 0; h < H; h++) {
    for (let i = 0; i < L; i++) {
      const s: number[] = [];
      for (let j = 0; j <= i; j++) {
        let dot = 0;
        for (let t = 0; t < D; t++) dot += q[(h * L + i) * D + t]! * k[(h * L + j) * D + t]!;
        s.push(dot * scale);
      }
      const max = Math.max(...s);
      const e = s.map((x) => Math.exp(x - max));
      const sum = e.reduce((a, b) => a + b, 0);
      for (let j = 0; j <= i; j++) {
        for (let t = 0; t < D; t++) out[(h * L + i) * D + t] += (e[j]! / sum) * v[(h * L + j) * D + t]!;
      }
    }
  }
  return out;
}
