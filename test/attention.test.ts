import { describe, expect, it } from 'vitest';
import { Tensor, attention, attentionWeights } from '../ts/index.js';
import { attention64, randoms, type Attention64Options } from './helpers/reference.js';
import { expectClose } from './helpers/expect-close.js';

interface Case { B: number; Hq: number; Hkv: number; Lq: number; Lk: number; D: number; Dv: number }

function run(c: Case, opts: Attention64Options & { mask?: never } = {}, seed = 1) {
  const { B, Hq, Hkv, Lq, Lk, D, Dv } = c;
  const qd = randoms(B * Hq * Lq * D, seed), kd = randoms(B * Hkv * Lk * D, seed + 1);
  const vd = randoms(B * Hkv * Lk * Dv, seed + 2);
  using q = Tensor.from(qd, [B, Hq, Lq, D]);
  using k = Tensor.from(kd, [B, Hkv, Lk, D]);
  using v = Tensor.from(vd, [B, Hkv, Lk, Dv]);
  const ref = attention64(qd, kd, vd, B, Hq, Hkv, Lq, Lk, D, Dv, opts);
  const { out, lse } = attention(q, k, v, {
    causal: opts.causal, scale: opts.scale, window: opts.window, softcap: opts.softcap,
    alibiSlopes: opts.alibi, sinks: opts.sinks, causalOffset: opts.causalOffset, returnLse: true,
  });
  try {
    const label = JSON.stringify({ ...c, ...opts });
    expectClose(out.data, ref.out, `out ${label}`, 2e-5, 2e-4);
    expectClose(lse.data, ref.lse, `lse ${label}`, 2e-5, 2e-5);
    using w = attentionWeights(q, k, { causal: opts.causal, scale: opts.scale, window: opts.window,
      softcap: opts.softcap, alibiSlopes: opts.alibi, sinks: opts.sinks, causalOffset: opts.causalOffset, lse });
    expectClose(w.data, ref.weights, `weights ${label}`, 2e-6, 2e-4);
  } finally {
    out.dispose();
    lse.dispose();
  }
}

describe('attention against a float64 reference', () => {
  for (const [Lq, Lk] of [[1, 1], [3, 3], [17, 17], [63, 63], [65, 65], [129, 129], [1, 65], [17, 129], [65, 17], [3, 64]]) {
    for (const D of [1, 8, 64, 80, 128]) {
      if (D >= 80 && Lq * Lk > 5000) continue;
      it(`Lq=${Lq} Lk=${Lk} D=${D}`, () => {
        const c = { B: 1, Hq: 2, Hkv: 1, Lq, Lk, D, Dv: D };
        run(c, {});
        run(c, { causal: true });
      });
    }
  }

  it('batch, GQA, Dv ≠ D, custom scale', () => {
    run({ B: 2, Hq: 6, Hkv: 3, Lq: 19, Lk: 23, D: 16, Dv: 24 }, { scale: 0.3 });
    run({ B: 2, Hq: 4, Hkv: 1, Lq: 33, Lk: 33, D: 32, Dv: 8 }, { causal: true });
  });

  it('score modifiers: window, softcap, ALiBi, sinks', () => {
    const c = { B: 1, Hq: 2, Hkv: 2, Lq: 40, Lk: 70, D: 16, Dv: 16 };
    run(c, { causal: true, window: [7, 0] });
    run(c, { window: [5, 9] });
    run(c, { softcap: 0.5, scale: 3 });
    run(c, { causal: true, alibi: [0.5, 0.0625] });
    run(c, { sinks: [0.5, -2] });
    run(c, { causal: true, window: [3, 0], softcap: 2, alibi: [0.25, 0.125], sinks: [1, 0] });
  });

  it('causalOffset: top-left, past length, negative, with window and ALiBi', () => {
    const c = { B: 1, Hq: 2, Hkv: 1, Lq: 20, Lk: 70, D: 16, Dv: 8 };
    run(c, { causal: true, causalOffset: 0 });
    run(c, { causal: true, causalOffset: 33 });
    run(c, { causal: true, causalOffset: -4 });
    run(c, { causal: true, causalOffset: 10, window: [6, 0], alibi: [0.5, 0.25] });
    run({ ...c, Lq: 70, Lk: 20 }, { causal: true, causalOffset: 0, sinks: [0.5, -1] });
    run({ ...c, Lq: 1 }, { causal: true, causalOffset: 30, window: [12, 0] });
  });

  it('chunked prefill with causalOffset equals one causal call', () => {
    const H = 2, L = 90, D = 16;
    const qd = randoms(H * L * D, 5), kd = randoms(H * L * D, 6), vd = randoms(H * L * D, 7);
    using q = Tensor.from(qd, [H, L, D]);
    using k = Tensor.from(kd, [H, L, D]);
    using v = Tensor.from(vd, [H, L, D]);
    using full = attention(q, k, v, { causal: true });
    const whole = full.toArray();
    for (let start = 0; start < L; start += 32) {
      const n = Math.min(32, L - start);
      const rows = new Float32Array(H * n * D);
      for (let h = 0; h < H; h++) rows.set(qd.subarray((h * L + start) * D, (h * L + start + n) * D), h * n * D);
      using qc = Tensor.from(rows, [H, n, D]);
      using out = attention(qc, k, v, { causal: true, causalOffset: start });
      for (let h = 0; h < H; h++) {
        const got = out.data.subarray(h * n * D, (h + 1) * n * D);
        const want = whole.subarray((h * L + start) * D, (h * L + start + n) * D);
        expectClose(got, Float64Array.from(want), `chunk ${start} head ${h}`, 1e-6, 0);
      }
    }
  });

  it('causalOffset must be an integer', () => {
    using q = Tensor.zeros([2, 4]);
    expect(() => attention(q, q, q, { causalOffset: 1.5 })).toThrow(/causalOffset must be an integer/);
    expect(() => attention(q, q, q, { causalOffset: '1' as never })).toThrow(/causalOffset must be an integer/);
    expect(() => attention(q, q, q, { causalOffset: 2 ** 40 })).toThrow(/causalOffset/);
  });

  it('GQA equals repeated K/V heads', () => {
    const [Hq, Hkv, L, D] = [8, 2, 21, 16];
    const qd = randoms(Hq * L * D, 5), kd = randoms(Hkv * L * D, 6), vd = randoms(Hkv * L * D, 7);
    const rep = (x: Float32Array) => {
      const r = new Float32Array(Hq * L * D);
      for (let h = 0; h < Hq; h++) r.set(x.subarray(Math.floor(h / (Hq / Hkv)) * L * D, (Math.floor(h / (Hq / Hkv)) + 1) * L * D), h * L * D);
      return r;
    };
    using q = Tensor.from(qd, [Hq, L, D]);
    using k = Tensor.from(kd, [Hkv, L, D]);
    using v = Tensor.from(vd, [Hkv, L, D]);
    using kr = Tensor.from(rep(kd), [Hq, L, D]);
    using vr = Tensor.from(rep(vd), [Hq, L, D]);
    using a = attention(q, k, v, { causal: true });
    using b = attention(q, kr, vr, { causal: true });
    expect(Array.from(a.data)).toEqual(Array.from(b.data));
  });

  it('causal output of a prefix does not depend on later tokens', () => {
    const [L, D] = [50, 8];
    const qd = randoms(L * D, 1), kd = randoms(L * D, 2), vd = randoms(L * D, 3);
    using q = Tensor.from(qd, [L, D]);
    using k = Tensor.from(kd, [L, D]);
    using v = Tensor.from(vd, [L, D]);
    using full = attention(q, k, v, { causal: true });
    const n = 20;
    using q2 = Tensor.from(qd.subarray(0, n * D), [n, D]);
    using k2 = Tensor.from(kd.subarray(0, n * D), [n, D]);
    using v2 = Tensor.from(vd.subarray(0, n * D), [n, D]);
    using prefix = attention(q2, k2, v2, { causal: true });
    expectClose(prefix.data, full.data.subarray(0, n * D), 'prefix', 1e-6, 1e-5);
  });

  it('additive and boolean masks; fully masked rows give 0 and lse −∞', () => {
    const [H, Lq, Lk, D] = [2, 5, 7, 4];
    const qd = randoms(H * Lq * D, 1), kd = randoms(H * Lk * D, 2), vd = randoms(H * Lk * D, 3);
    const allowed = (i: number, j: number) => i !== 2 && (i + j) % 3 !== 0; // row 2 fully blocked
    const attend = Array.from({ length: Lq * Lk }, (_, x) => allowed(Math.floor(x / Lk), x % Lk));
    using q = Tensor.from(qd, [H, Lq, D]);
    using k = Tensor.from(kd, [H, Lk, D]);
    using v = Tensor.from(vd, [H, Lk, D]);
    using add = Tensor.from(attend.map((a) => (a ? 0 : -Infinity)), [Lq, Lk]);
    const ref = attention64(qd, kd, vd, 1, H, H, Lq, Lk, D, D,
      { mask: (_b, _h, i, j) => (allowed(i, j) ? 0 : -Infinity) });
    const r1 = attention(q, k, v, { mask: add, returnLse: true });
    using r2 = attention(q, k, v, { mask: { attend, shape: [Lq, Lk] } });
    expectClose(r1.out.data, ref.out, 'additive mask');
    expectClose(r2.data, ref.out, 'boolean mask');
    expect(Array.from(r1.out.data.subarray(2 * D, 3 * D))).toEqual([0, 0, 0, 0]);
    expect(r1.lse.data[2]).toBe(-Infinity);
    r1.out.dispose();
    r1.lse.dispose();
  });

  it('rejects inconsistent shapes with messages that name them', () => {
    using q = Tensor.zeros([4, 3, 8]);
    using k = Tensor.zeros([2, 5, 8]);
    using v = Tensor.zeros([2, 5, 6]);
    using kBad = Tensor.zeros([3, 5, 8]);
    expect(() => attention(q, kBad, v)).toThrow(/query heads \(4\) must be a multiple of key\/value heads \(3\)/);
    using k7 = Tensor.zeros([2, 5, 7]);
    expect(() => attention(q, k7, v)).toThrow(/head sizes differ \(8 vs 7\)/);
    using v4 = Tensor.zeros([2, 4, 6]);
    expect(() => attention(q, k, v4)).toThrow(/k and v must agree/);
    using m = Tensor.zeros([3, 4]);
    expect(() => attention(q, k, v, { mask: m })).toThrow(/mask of shape \[3, 4\] does not broadcast to \[1, 4, 3, 5\]/);
    expect(() => attention(q, k, v, { alibiSlopes: [1, 2] })).toThrow(/one value per query head \(4\)/);
    expect(() => attention(q, k, v, { window: -1 })).toThrow(/window must be/);
    using out = Tensor.zeros([4, 3, 8]);
    expect(() => attention(q, k, v, { out })).toThrow(/out has shape \[4, 3, 8\], expected \[4, 3, 6\]/);
    using ok = attention(q, k, v);
    expect(ok.shape).toEqual([4, 3, 6]);
  });
});

describe('decoding shapes (Lq = 1)', () => {
  it('grouped heads with one query row match the reference, causal or not, with lse', () => {
    for (const [Hq, Hkv] of [[8, 2], [4, 1], [6, 6]] as const) {
      run({ B: 2, Hq, Hkv, Lq: 1, Lk: 77, D: 32, Dv: 16 }, {});
      run({ B: 1, Hq, Hkv, Lq: 1, Lk: 130, D: 64, Dv: 64 }, { causal: true, softcap: 3 });
      run({ B: 1, Hq, Hkv, Lq: 1, Lk: 50, D: 16, Dv: 16 }, { causal: true, window: [9, 0], alibi: Array.from({ length: Hq }, (_, h) => 0.1 * (h + 1)) });
    }
  });
});
