// attention() on float16/bfloat16 q, k, v: exact on the stored values (reference on the
// widened values) and within the storage error of the original float32 data.
import { describe, expect, it } from 'vitest';
import { Tensor, attention, attentionWeights, type TensorDType } from '../ts/index.js';
import { attention64, randoms, worstError, type Attention64Options } from './helpers/reference.js';
import { expectClose } from './helpers/expect-close.js';

interface Case { B: number; Hq: number; Hkv: number; Lq: number; Lk: number; D: number; Dv: number }

/** Largest absolute error for unit-scale data, per stored dtype (measured errors: docs/toolkit.md). */
const BOUND: Record<TensorDType, number> = { float32: 1e-5, float16: 3e-3, bfloat16: 2e-2 };

function run(c: Case, dtype: TensorDType, qDtype: TensorDType, opts: Attention64Options = {}, seed = 1) {
  const { B, Hq, Hkv, Lq, Lk, D, Dv } = c;
  const qd = randoms(B * Hq * Lq * D, seed), kd = randoms(B * Hkv * Lk * D, seed + 1, -2, 2);
  const vd = randoms(B * Hkv * Lk * Dv, seed + 2);
  using q = Tensor.from(qd, [B, Hq, Lq, D], { dtype: qDtype });
  using k = Tensor.from(kd, [B, Hkv, Lk, D], { dtype });
  using v = Tensor.from(vd, [B, Hkv, Lk, Dv], { dtype });
  const label = JSON.stringify({ ...c, dtype, qDtype, ...opts });
  const { out, lse } = attention(q, k, v, {
    causal: opts.causal, window: opts.window, softcap: opts.softcap, alibiSlopes: opts.alibi, sinks: opts.sinks,
    causalOffset: opts.causalOffset, returnLse: true,
  });
  try {
    // The stored values, widened: the kernel must be float32-exact on them.
    const exact = attention64(q.toArray(), k.toArray(), v.toArray(), B, Hq, Hkv, Lq, Lk, D, Dv, opts);
    expectClose(out.data, exact.out, `out on stored values ${label}`, 2e-5, 2e-4);
    expectClose(lse.data, exact.lse, `lse on stored values ${label}`, 2e-5, 2e-5);
    // Against the float32 originals: the storage error only.
    const orig = attention64(qd, kd, vd, B, Hq, Hkv, Lq, Lk, D, Dv, opts);
    const bound = Math.max(BOUND[dtype], BOUND[qDtype]);
    const w = worstError(out.data, orig.out, bound, 0);
    expect(w.ratio, `${label}: worst ${w.got} vs ${w.want} at ${w.index}`).toBeLessThanOrEqual(1);
  } finally {
    out.dispose();
    lse.dispose();
  }
}

describe('attention on 16-bit storage', () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(`${dtype}: decode shapes (GQA, MHA, several rows)`, () => {
      run({ B: 1, Hq: 8, Hkv: 2, Lq: 1, Lk: 300, D: 64, Dv: 64 }, dtype, 'float32');
      run({ B: 1, Hq: 4, Hkv: 4, Lq: 1, Lk: 517, D: 37, Dv: 19 }, dtype, dtype, { causal: true });
      run({ B: 2, Hq: 6, Hkv: 2, Lq: 3, Lk: 90, D: 16, Dv: 8 }, dtype, 'float32', { causal: true, window: [20, 0], sinks: [0.5, -1, 0, 1, 2, -2] });
    });
    it(`${dtype}: prefill shapes and options`, () => {
      run({ B: 1, Hq: 2, Hkv: 1, Lq: 70, Lk: 70, D: 32, Dv: 32 }, dtype, dtype, { causal: true });
      run({ B: 1, Hq: 2, Hkv: 2, Lq: 40, Lk: 90, D: 16, Dv: 24 }, dtype, 'float32', { softcap: 2, alibi: [0.25, 0.5], causal: true, causalOffset: 30 });
    });
  }
  it('mixed: float16 q with bfloat16 k/v', () => {
    run({ B: 1, Hq: 4, Hkv: 1, Lq: 1, Lk: 200, D: 32, Dv: 32 }, 'bfloat16', 'float16');
  });

  it('rejects mismatched k/v dtypes and 16-bit inputs where float32 is needed', () => {
    using q = Tensor.from(randoms(16, 3), [2, 8], { dtype: 'float16' });
    using k = Tensor.from(randoms(16, 4), [2, 8], { dtype: 'float16' });
    using vb = Tensor.from(randoms(16, 5), [2, 8], { dtype: 'bfloat16' });
    expect(() => attention(q, k, vb)).toThrow(/k \(float16\) and v \(bfloat16\) must have the same dtype/);
    expect(() => attentionWeights(q as never, k as never)).toThrow(/attentionWeights: q has dtype float16, but attentionWeights takes float32/);
    using o16 = Tensor.zeros([2, 8], { dtype: 'float16' });
    expect(() => attention(q, k, k, { out: o16 as never })).toThrow(/out has dtype float16/);
    using out = attention(q, k, k);
    expect(out.dtype).toBe('float32');
  });
});

describe('decode kernel on float32 K/V large enough to stream from memory', () => {
  // Over STREAM_BYTES (2 MiB) of K + V the f32 tiles read memory in another order
  // (decode.rs): odd chunk tails, D not a multiple of 4, 1 to 6 rows per kv head.
  it('GQA (4 rows), MHA (1 row) and 6 rows with options match float64', () => {
    run({ B: 1, Hq: 8, Hkv: 2, Lq: 1, Lk: 2601, D: 130, Dv: 130 }, 'float32', 'float32');
    run({ B: 1, Hq: 3, Hkv: 3, Lq: 1, Lk: 3001, D: 64, Dv: 64 }, 'float32', 'float32', { causal: true });
    run({ B: 1, Hq: 2, Hkv: 1, Lq: 3, Lk: 4500, D: 96, Dv: 42 }, 'float32', 'float32',
      { causal: true, window: [3000, 0], sinks: [0.5, -1] });
  });
});

describe('decode path equals the tiled path (float32)', () => {
  it('one query row per head against rows that force the tiled kernel', () => {
    // Lq = 20 rows per head goes to the tiled kernel; the same rows one at a time
    // (with causalOffset giving their positions) go to the decode kernel.
    const H = 4, L = 20, Lk = 300, D = 64;
    const qd = randoms(H * L * D, 11), kd = randoms(H * Lk * D, 12), vd = randoms(H * Lk * D, 13);
    using q = Tensor.from(qd, [H, L, D]);
    using k = Tensor.from(kd, [H, Lk, D]);
    using v = Tensor.from(vd, [H, Lk, D]);
    for (const opts of [{}, { causal: true }, { causal: true, window: [50, 0] as [number, number], softcap: 3 },
      { sinks: [0, 1, -1, 2], alibiSlopes: [0.1, 0.2, 0.3, 0.4], causal: true }]) {
      using full = attention(q, k, v, opts);
      for (let i = 0; i < L; i += 7) {
        const row = new Float32Array(H * D);
        for (let h = 0; h < H; h++) row.set(qd.subarray((h * L + i) * D, (h * L + i + 1) * D), h * D);
        using qi = Tensor.from(row, [H, 1, D]);
        using oi = attention(qi, k, v, { ...opts, causalOffset: i + Lk - L });
        for (let h = 0; h < H; h++) {
          expectClose(oi.data.subarray(h * D, (h + 1) * D), full.data.subarray((h * L + i) * D, (h * L + i + 1) * D),
            `row ${i} head ${h} ${JSON.stringify(opts)}`, 1e-6, 0);
        }
      }
    }
  });
});
