import { describe, expect, it } from 'vitest';
import { Tensor, attention, attentionMap, mapRows } from '../../ts/index.js';
import { matmul64, randoms, softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const INPUTS = [0.43, 0.15, 0.89, 0.55, 0.87, 0.66, 0.57, 0.85, 0.64, 0.22, 0.58, 0.33, 0.77, 0.25, 0.10, 0.05, 0.80, 0.55];

/**
 * Explicit map: scores Q_h·K_hkᵀ·scale (+ causal −∞, + ALiBi, + additive mask) for every
 * (b, h, i, j), then a float64 softmax per row. Returns [B, Hq, Lq, Lk].
 */
function explicitMap(q: Float32Array, k: Float32Array, B: number, Hq: number, Hkv: number, Lq: number, Lk: number, D: number,
  o: { causal?: boolean; scale?: number; alibi?: number[]; mask?: Float32Array } = {}): Float64Array {
  const scale = o.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(B * Hq * Lq * Lk);
  for (let b = 0; b < B; b++) for (let h = 0; h < Hq; h++) {
    const hk = Math.floor(h / (Hq / Hkv));
    const s = matmul64(q.subarray(((b * Hq + h) * Lq) * D, ((b * Hq + h + 1) * Lq) * D),
      k.subarray(((b * Hkv + hk) * Lk) * D, ((b * Hkv + hk + 1) * Lk) * D), Lq, D, Lk, { transB: true, alpha: scale });
    for (let i = 0; i < Lq; i++) {
      const p = i + Lk - Lq;
      for (let j = 0; j < Lk; j++) {
        if (o.causal && j > p) s[i * Lk + j] = -Infinity;
        if (o.alibi) s[i * Lk + j] -= o.alibi[h]! * Math.abs(p - j);
        if (o.mask) s[i * Lk + j] += o.mask[i * Lk + j]!;
      }
      out.set(softmaxRow64(s.subarray(i * Lk, (i + 1) * Lk)), ((b * Hq + h) * Lq + i) * Lk);
    }
  }
  return out;
}

describe('attentionMap', () => {
  it('the seeds\' 6×6 heat map of "Your journey starts with one step" (scale 1), plain and causal', () => {
    using x = Tensor.from(INPUTS, [6, 3]);
    using map = attentionMap(x, x, { scale: 1 });
    expect(map.shape).toEqual([6, 6]);
    const x32 = Float32Array.from(INPUTS);
    expectClose(map.data, explicitMap(x32, x32, 1, 1, 1, 6, 6, 3, { scale: 1 }), 'map', 1e-6, 1e-5);
    using causal = attentionMap(x, x, { scale: 1, causal: true });
    expectClose(causal.data, explicitMap(x32, x32, 1, 1, 1, 6, 6, 3, { scale: 1, causal: true }), 'causal map', 1e-6, 1e-5);
    const rows = mapRows(causal, 4);
    expect(rows.length).toBe(6);
    expect(rows[0]).toEqual([1, 0, 0, 0, 0, 0]);
    for (const r of mapRows(map)) expect(r.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
  });

  it('chosen heads and rows, batch and GQA, ALiBi and a mask, with and without lse', () => {
    const [B, Hq, Hkv, Lq, Lk, D] = [2, 4, 2, 9, 13, 8];
    const qd = randoms(B * Hq * Lq * D, 1), kd = randoms(B * Hkv * Lk * D, 2), vd = randoms(B * Hkv * Lk * D, 3);
    const md = randoms(Lq * Lk, 4, -1, 1);
    const alibi = [0.5, 0.25, 0.125, 0.0625];
    using q = Tensor.from(qd, [B, Hq, Lq, D]);
    using k = Tensor.from(kd, [B, Hkv, Lk, D]);
    using v = Tensor.from(vd, [B, Hkv, Lk, D]);
    using mask = Tensor.from(md, [Lq, Lk]);
    const opts = { causal: true, alibiSlopes: alibi, mask };
    const ref = explicitMap(qd, kd, B, Hq, Hkv, Lq, Lk, D, { causal: true, alibi, mask: md });
    const heads = [3, 0, 2], [r0, r1] = [2, 7];
    const want = new Float64Array(B * heads.length * (r1 - r0) * Lk);
    for (let b = 0; b < B; b++) heads.forEach((h, idx) => {
      for (let i = r0; i < r1; i++) {
        want.set(ref.subarray(((b * Hq + h) * Lq + i) * Lk, ((b * Hq + h) * Lq + i + 1) * Lk), ((b * heads.length + idx) * (r1 - r0) + i - r0) * Lk);
      }
    });
    using sel = attentionMap(q, k, { ...opts, heads, rows: [r0, r1] });
    expect(sel.shape).toEqual([B, 3, 5, Lk]);
    expectClose(sel.data, want, 'heads [3, 0, 2], rows [2, 7)', 1e-6, 1e-4);
    const { out, lse } = attention(q, k, v, { ...opts, returnLse: true });
    using withLse = attentionMap(q, k, { ...opts, heads, rows: [r0, r1], lse });
    expectClose(withLse.data, want, 'same with lse', 1e-6, 1e-4);
    using all = attentionMap(q, k, { ...opts, lse });
    expectClose(all.data, ref, 'every head and row with lse', 1e-6, 1e-4);
    out.dispose();
    lse.dispose();
  });

  it('single batch, [H, L, D] input, one head', () => {
    const [H, L, D] = [3, 5, 4];
    const qd = randoms(H * L * D, 5), kd = randoms(H * L * D, 6);
    using q = Tensor.from(qd, [H, L, D]);
    using k = Tensor.from(kd, [H, L, D]);
    using m = attentionMap(q, k, { heads: [1] });
    expect(m.shape).toEqual([1, L, L]);
    expectClose(m.data, explicitMap(qd, kd, 1, H, H, L, L, D).subarray(L * L, 2 * L * L), 'head 1', 1e-6, 1e-4);
  });

  it('rejects bad heads and rows', () => {
    using q = Tensor.zeros([2, 3, 4]);
    expect(() => attentionMap(q, q, { heads: [2] })).toThrow(/heads must be indices in \[0, 2\)/);
    expect(() => attentionMap(q, q, { rows: [1, 4] })).toThrow(/rows must be \[start, end\) within \[0, 3\]/);
    using single = Tensor.zeros([3, 4]);
    expect(() => attentionMap(single, single, { heads: [1] })).toThrow(/has one head; heads must be \[0\]/);
  });
});
