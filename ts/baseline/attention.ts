import { matmulTs } from './matmul.js';
import { softmaxTs } from './softmax.js';

/** Options of {@link attentionTs}. */
export interface AttentionTsOptions {
  /** Block keys after the (bottom-right aligned) query position. @defaultValue false */
  causal?: boolean;
  /** Score scale. @defaultValue 1/√D */
  scale?: number;
}

/**
 * Scaled dot-product attention composed the textbook way, per head:
 * `S = Q·Kᵀ·scale` (+ causal mask) → softmax → `S·V`. Materialises the full
 * `Lq × Lk` score matrix, as most JavaScript implementations do.
 * `q [H, Lq, D]`, `k [Hkv, Lk, D]`, `v [Hkv, Lk, Dv]` flattened; returns `[H, Lq, Dv]`.
 */
export function attentionTs(
  q: Float32Array, k: Float32Array, v: Float32Array,
  heads: number, headsKv: number, lq: number, lk: number, d: number, dv: number,
  options: AttentionTsOptions = {},
): Float32Array {
  const scale = options.scale ?? 1 / Math.sqrt(d);
  const out = new Float32Array(heads * lq * dv);
  const scores = new Float32Array(lq * lk);
  const group = heads / headsKv;
  for (let h = 0; h < heads; h++) {
    const hk = Math.floor(h / group);
    const qh = q.subarray(h * lq * d, (h + 1) * lq * d);
    const kh = k.subarray(hk * lk * d, (hk + 1) * lk * d);
    const vh = v.subarray(hk * lk * dv, (hk + 1) * lk * dv);
    matmulTs(qh, kh, lq, d, lk, true, scores);
    for (let i = 0; i < lq; i++) {
      const limit = options.causal ? i + lk - lq : lk - 1;
      for (let j = 0; j < lk; j++) {
        scores[i * lk + j] = j > limit ? -Infinity : scores[i * lk + j]! * scale;
      }
    }
    softmaxTs(scores, lq, lk, undefined, scores);
    matmulTs(scores, vh, lq, lk, dv, false, out.subarray(h * lq * dv, (h + 1) * lq * dv));
  }
  return out;
}
