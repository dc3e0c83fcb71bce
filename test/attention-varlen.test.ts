// Packed variable-length batches (seqOffsets) against a float64 reference that runs
// dense softmax attention per sequence, positions counted from each sequence's start.
import { describe, expect, it } from 'vitest';
import { Tensor, attention } from '../ts/index.js';
import { randoms } from './helpers/reference.js';
import { expectClose } from './helpers/expect-close.js';

interface Opts { causal?: boolean; window?: [number, number]; scale?: number }

/** `[T, Hq, Dv]` outputs and `[Hq, T]` log-sum-exps of each sequence on its own rows. */
function packed64(q: Float32Array, k: Float32Array, v: Float32Array, offs: number[], Hq: number, Hkv: number,
  D: number, Dv: number, o: Opts) {
  const T = offs[offs.length - 1]!, scale = o.scale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(T * Hq * Dv), lse = new Float64Array(Hq * T).fill(-Infinity);
  for (let s = 0; s + 1 < offs.length; s++) {
    const a = offs[s]!, e = offs[s + 1]!;
    for (let h = 0; h < Hq; h++) {
      const hk = Math.floor(h / (Hq / Hkv));
      for (let i = a; i < e; i++) {
        const scores: [number, number][] = [];
        for (let j = a; j < e; j++) {
          const pi = i - a, pj = j - a;
          if (o.causal && pj > pi) continue;
          if (o.window && (pj < pi - o.window[0] || pj > pi + o.window[1])) continue;
          let dot = 0;
          for (let c = 0; c < D; c++) dot += q[(i * Hq + h) * D + c]! * k[(j * Hkv + hk) * D + c]!;
          scores.push([j, dot * scale]);
        }
        if (scores.length === 0) continue;
        const m = Math.max(...scores.map((x) => x[1]));
        let z = 0;
        for (const [, x] of scores) z += Math.exp(x - m);
        lse[h * T + i] = m + Math.log(z);
        for (const [j, x] of scores) {
          const p = Math.exp(x - m) / z;
          for (let c = 0; c < Dv; c++) out[(i * Hq + h) * Dv + c] += p * v[(j * Hkv + hk) * Dv + c]!;
        }
      }
    }
  }
  return { out, lse };
}

function run(offs: number[], Hq: number, Hkv: number, D: number, Dv: number, o: Opts = {}, seed = 3) {
  const T = offs[offs.length - 1]!;
  const qd = randoms(T * Hq * D, seed), kd = randoms(T * Hkv * D, seed + 1), vd = randoms(T * Hkv * Dv, seed + 2);
  using q = Tensor.from(qd, [T, Hq, D]);
  using k = Tensor.from(kd, [T, Hkv, D]);
  using v = Tensor.from(vd, [T, Hkv, Dv]);
  const ref = packed64(qd, kd, vd, offs, Hq, Hkv, D, Dv, o);
  const { out, lse } = attention(q, k, v, { ...o, seqOffsets: offs, returnLse: true });
  try {
    expect(out.shape).toEqual([T, Hq, Dv]);
    expect(lse.shape).toEqual([Hq, T]);
    const label = JSON.stringify({ offs, Hq, Hkv, D, Dv, ...o });
    expectClose(out.data, ref.out, `out ${label}`, 2e-5, 2e-4);
    expectClose(lse.data, ref.lse, `lse ${label}`, 2e-5, 2e-5);
  } finally {
    out.dispose();
    lse.dispose();
  }
}

describe('attention with seqOffsets against a float64 reference', () => {
  const batches: number[][] = [
    [0, 1], [0, 0, 1, 1], [0, 3, 3, 4, 20, 21], [0, 65, 65, 66, 130], [0, 1, 2, 3, 4, 5, 6, 7, 8],
    [0, 0, 0, 0], [0, 17, 80, 150],
  ];
  for (const offs of batches) {
    it(`offsets [${offs.join(', ')}]`, () => {
      run(offs, 4, 2, 16, 16);
      run(offs, 3, 3, 8, 5, { causal: true });
      run(offs, 2, 1, 24, 24, { window: [4, 4] });
    });
  }

  it('matches the padded kernel call per sequence', () => {
    // Each sequence alone through the ordinary [H, L, D] path gives the same rows.
    const offs = [0, 5, 70, 72], Hq = 2, D = 8, T = 72;
    const qd = randoms(T * Hq * D, 9), kd = randoms(T * Hq * D, 10), vd = randoms(T * Hq * D, 11);
    using q = Tensor.from(qd, [T, Hq, D]);
    using k = Tensor.from(kd, [T, Hq, D]);
    using v = Tensor.from(vd, [T, Hq, D]);
    using out = attention(q, k, v, { seqOffsets: new Int32Array(offs) });
    for (let s = 0; s < 3; s++) {
      const a = offs[s]!, n = offs[s + 1]! - a;
      // [n, H, D] rows → [H, n, D]
      const heads = (x: Float32Array) => {
        const r = new Float32Array(Hq * n * D);
        for (let i = 0; i < n; i++) for (let h = 0; h < Hq; h++) r.set(x.subarray(((a + i) * Hq + h) * D, ((a + i) * Hq + h + 1) * D), (h * n + i) * D);
        return r;
      };
      using qs = Tensor.from(heads(qd), [Hq, n, D]);
      using ks = Tensor.from(heads(kd), [Hq, n, D]);
      using vs = Tensor.from(heads(vd), [Hq, n, D]);
      using want = attention(qs, ks, vs);
      for (let i = 0; i < n; i++) for (let h = 0; h < Hq; h++) {
        const got = out.data.subarray(((a + i) * Hq + h) * D, ((a + i) * Hq + h + 1) * D);
        expect(Array.from(got)).toEqual(Array.from(want.data.subarray((h * n + i) * D, (h * n + i + 1) * D)));
      }
    }
  });
});

describe('attention seqOffsets arguments', () => {
  const packed = () => Tensor.from(new Float32Array(6 * 2 * 4), [6, 2, 4]);
  const bad: [unknown, RegExp][] = [
    [[], /at least one value/],
    [[1, 6], /seqOffsets\[0\] must be 0, got 1/],
    [[0, 4, 3, 6], /must not decrease: seqOffsets\[2\] = 3 < seqOffsets\[1\] = 4/],
    [[0, 5], /must end at the 6 packed rows, got seqOffsets\[1\] = 5/],
    [[0, 2.5, 6], /seqOffsets\[1\] = 2\.5 is not an integer/],
    [[0, -1, 6], /seqOffsets\[1\] = -1 is not an integer/],
    [[0, 2 ** 31, 6], /seqOffsets\[1\] = 2147483648 is not an integer in \[0, 2\^31 − 1\]/],
    ['0,6', /must be an array/],
    [null, /must be an array/],
  ];
  for (const [offs, msg] of bad) {
    it(`rejects ${JSON.stringify(offs)}`, () => {
      using q = packed();
      expect(() => attention(q, q, q, { seqOffsets: offs as number[] })).toThrow(msg);
    });
  }
  it('rejects masks, unpacked shapes and mismatched rows', () => {
    using q = packed();
    expect(() => attention(q, q, q, { seqOffsets: [0, 6], mask: { attend: [true], shape: [1] } as never })).toThrow(/mask cannot be combined/);
    using q4 = Tensor.from(new Float32Array(48), [1, 6, 2, 4]);
    expect(() => attention(q4, q4, q4, { seqOffsets: [0, 6] })).toThrow(/packed \[T, H, D\]/);
    using k5 = Tensor.from(new Float32Array(40), [5, 2, 4]);
    expect(() => attention(q, k5, k5, { seqOffsets: [0, 6] })).toThrow(/same T rows/);
  });
});
