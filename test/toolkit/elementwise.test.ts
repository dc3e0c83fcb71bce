// The element-wise kernels behind applyActivation, add, layerNorm/rmsNorm, applyRope and the
// feed-forward networks: float64 references, odd sizes (vector tails), special values,
// in-place and broadcast forms, and rejected inputs that leave no block behind.
import { describe, expect, it } from 'vitest';
import {
  Tensor, add, applyActivation, applyRope, feedForward, gatedFeedForward, layerNorm, memoryStats, rmsNorm, ropeTables,
} from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { ffn64, gatedFfn64, gelu64, geluTanh64, norm64, relu64, rope64, silu64 } from './helpers/reference-nn.js';

const SIZES = [0, 1, 3, 5, 17, 63, 65];
const REFS = { relu: relu64, gelu: gelu64, gelu_tanh: geluTanh64, silu: silu64 } as const;

/** Runs `body` and checks that it left the number of live blocks as it was. */
function noLeak(body: () => void): void {
  const before = memoryStats().liveBlocks;
  body();
  expect(memoryStats().liveBlocks).toBe(before);
}

describe('applyActivation on the kernel', () => {
  it('every activation against float64 at every tail size, |x| ≤ 10 within 1e-6', () => {
    for (const n of SIZES) {
      const xd = randoms(n, 100 + n, -10, 10);
      for (const [name, ref] of Object.entries(REFS)) {
        using x = Tensor.from(xd);
        applyActivation(x, name as keyof typeof REFS);
        expectClose(x.data, Array.from(xd, ref), `${name} n=${n}`, 1e-6, 1e-6);
      }
    }
  });

  it('dense sweep of erf-GELU and SiLU: max error stays below the stated bounds', () => {
    const n = 4001;
    const xd = Float32Array.from({ length: n }, (_, i) => -10 + (20 * i) / (n - 1));
    using g = Tensor.from(xd);
    applyActivation(g, 'gelu');
    let worst = 0;
    for (let i = 0; i < n; i++) worst = Math.max(worst, Math.abs(g.data[i]! - gelu64(xd[i]!)));
    expect(worst).toBeLessThan(4e-7);
    using s = Tensor.from(xd);
    applyActivation(s, 'silu');
    expectClose(s.data, Array.from(xd, silu64), 'silu sweep', 1e-30, 1e-6);
  });

  it('NaN propagates, ±inf give the limits, tiny values give x/2', () => {
    const xd = [NaN, Infinity, -Infinity, 0, 1e30, -1e30, 1e-30, -1e-30, 3.4e38, -3.4e38];
    for (const name of ['gelu', 'gelu_tanh', 'silu', 'relu'] as const) {
      using x = Tensor.from(xd);
      applyActivation(x, name);
      const d = Array.from(x.data);
      expect(Number.isNaN(d[0])).toBe(true);
      expect(d[1]).toBe(Infinity);
      expect(d[2] === 0).toBe(true); // ±0

      expect(d[4]).toBe(Math.fround(1e30));
      expect(Math.abs(d[5]!)).toBe(0);
      if (name !== 'relu') expect(d[6]! / 1e-30).toBeCloseTo(0.5, 6);
    }
    using z = Tensor.from(new Float32Array(9).fill(-0));
    applyActivation(z, 'relu');
    expect(Array.from(z.data).every((v) => v === 0)).toBe(true); // ±0 (the optimiser may turn the scalar tail's select into a max)
  });

  it('rejects an unknown activation without allocating', () => {
    using x = Tensor.from([1, 2, 3]);
    noLeak(() => {
      expect(() => applyActivation(x, 'swish' as never)).toThrow(/activation must be one of 'relu', 'gelu', 'gelu_tanh', 'silu', got swish/);
    });
  });
});

describe('add on the kernel', () => {
  it('broadcast over trailing axes, into a new tensor, in place in a and in b', () => {
    for (const E of SIZES.slice(1)) {
      const ad = randoms(3 * 2 * E, E, -5, 5), bd = randoms(E, E + 1, -5, 5);
      const want = Array.from(ad, (v, i) => Math.fround(v + bd[i % E]!));
      using a = Tensor.from(ad, [3, 2, E]);
      using b = Tensor.from(bd, [E]);
      using c = add(a, b);
      expect(Array.from(c.data)).toEqual(want);
      add(a, b, { out: a });
      expect(Array.from(a.data)).toEqual(want);
      using full = Tensor.from(ad, [3, 2, E]);
      using other = Tensor.from(bd.length === ad.length ? bd : randoms(ad.length, 7), [3, 2, E]);
      const sum = Array.from(full.data, (v, i) => Math.fround(v + other.data[i]!));
      add(full, other, { out: other });
      expect(Array.from(other.data)).toEqual(sum);
      add(full, full, { out: full });
      expect(Array.from(full.data)).toEqual(Array.from(ad, (v) => 2 * v));
    }
  });

  it('NaN and inf follow IEEE addition; empty tensors are fine', () => {
    using a = Tensor.from([NaN, Infinity, Infinity, 1]);
    using b = Tensor.from([1, 1, -Infinity, NaN]);
    const d = Array.from(add(a, b, { out: a }).data);
    expect([Number.isNaN(d[0]), d[1], Number.isNaN(d[2]), Number.isNaN(d[3])]).toEqual([true, Infinity, true, true]);
    using e = Tensor.zeros([0, 4]);
    using v = Tensor.zeros([4]);
    expect(add(e, v, { out: e }).size).toBe(0);
  });

  it('bad shapes throw and leave no block behind', () => {
    using a = Tensor.zeros([2, 3]);
    using b = Tensor.zeros([2]);
    using big = Tensor.zeros([4, 3]);
    using row = Tensor.zeros([3]);
    noLeak(() => {
      expect(() => add(a, b)).toThrow(/must equal a \[2, 3\] or its trailing axes/);
      expect(() => add(big, row, { out: a })).toThrow(/out has shape/);
    });
  });
});

describe('layerNorm and rmsNorm on the kernel', () => {
  it('against float64 for every tail size, offset rows, in place and fused residual', () => {
    for (const E of SIZES.slice(1).concat([384])) {
      for (const offset of [0, 300]) {
        const xd = randoms(4 * E, E, -2, 2).map((v) => v + offset);
        const g = randoms(E, 2 * E, 0.5, 1.5), bt = randoms(E, 3 * E, -1, 1);
        for (const rms of [false, true]) {
          const want = norm64(xd, E, g, rms ? null : bt, 1e-5);
          using x = Tensor.from(xd, [2, 2, E]);
          using y = rms ? rmsNorm(x, g, { eps: 1e-5 }) : layerNorm(x, g, bt, { eps: 1e-5 });
          expectClose(y.data, want, `${rms ? 'rms' : 'layer'} E=${E} offset ${offset}`, 2e-6, 2e-6);
          const r = randoms(4 * E, 5 * E, -1, 1);
          using h = Tensor.from(xd.map((v, i) => v - r[i]!), [2, 2, E]);
          using res = Tensor.from(r, [2, 2, E]);
          const hs = Array.from(h.data, (v, i) => Math.fround(v + r[i]!));
          using gT = Tensor.from(g);
          const o = rms ? rmsNorm(h, gT, { eps: 1e-5, residual: res, out: h })
            : layerNorm(h, gT, bt, { eps: 1e-5, residual: res, out: h });
          expect(o).toBe(h);
          expectClose(h.data, norm64(hs, E, g, rms ? null : bt, 1e-5), `fused E=${E}`, 2e-6, 2e-6);
        }
      }
    }
  });

  it('parameters given as views of WASM memory (tensor.data) are copied before any allocation', () => {
    const E = 8;
    using p = Tensor.from(randoms(2 * E, 12, 0.5, 1.5), [2, E]);
    const xd = randoms(3 * E, 13, -1, 1);
    using x = Tensor.from(xd, [3, E]);
    using y = layerNorm(x, p.data.subarray(0, E), p.data.subarray(E));
    expectClose(y.data, norm64(xd, E, p.data.subarray(0, E), p.data.subarray(E), 1e-5), 'views', 2e-6, 2e-6);
  });

  it('a NaN poisons its row only; constant rows give beta', () => {
    using x = Tensor.from([1, NaN, 3, 4, 4, 4], [2, 3]);
    const y = Array.from(layerNorm(x, [1, 1, 1], [0.5, 0.5, 0.5], { out: x }).data);
    expect(y.slice(0, 3).every(Number.isNaN)).toBe(true);
    expect(y.slice(3)).toEqual([0.5, 0.5, 0.5]);
  });

  it('bad parameters throw and leave no block behind', () => {
    using x = Tensor.zeros([2, 4]);
    using r = Tensor.zeros([2, 3]);
    noLeak(() => {
      expect(() => layerNorm(x, [1, 1, 1], [0, 0, 0, 0])).toThrow(/gamma \[4\] has 3 values, expected 4/);
      expect(() => rmsNorm(x, [1, 1, 1, 1], { eps: -1 })).toThrow(/eps must be ≥ 0/);
      expect(() => rmsNorm(x, [1, 1, 1, 1], { residual: r })).toThrow(/residual has shape \[2, 3\]/);
      expect(() => rmsNorm(x, [1, 1, 1, 1], { residual: x })).toThrow(/overlaps an input/);
    });
  });
});

describe('applyRope on the kernel', () => {
  it('half and interleaved, partial rotary, several heads per row, odd pair counts', () => {
    for (const [D, rot] of [[8, 8], [10, 10], [16, 8], [34, 34], [66, 18], [64, 2]] as const) {
      for (const style of ['half', 'interleaved'] as const) {
        const H = 3, L = 5;
        const xd = randoms(2 * L * H * D, D + rot, -2, 2);
        using x = Tensor.from(xd, [2, L, H * D]);
        applyRope(x, { style, headDim: D, rotaryDim: rot, offset: 7 });
        const want = rope64(xd, L, H * D, D, Array.from({ length: L }, (_, l) => 7 + l), style, 10000, rot);
        expectClose(x.data, want, `${style} D=${D} rot=${rot}`, 2e-6, 2e-6);
      }
    }
  });

  it('cached tables: growth to far positions, gathered and fractional positions', () => {
    const D = 16, L = 4;
    const xd = randoms(L * D, 9, -1, 1);
    for (const positions of [[0, 1, 2, 3], [3000, 3001, 3002, 3003], [5, 2, 900, 2], [0.5, 1.25, 7, 2]]) {
      for (const style of ['half', 'interleaved'] as const) {
        using x = Tensor.from(xd, [L, D]);
        applyRope(x, { positions, style });
        expectClose(x.data, rope64(xd, L, D, D, positions, style), `positions ${positions.join(',')}`, 2e-6, 2e-6);
      }
    }
  });

  it('tables given as Tensors', () => {
    const { cos, sin } = ropeTables(12, 8);
    using c = Tensor.from(cos, [12, 4]);
    using s = Tensor.from(sin, [12, 4]);
    const xd = randoms(3 * 8, 4, -1, 1);
    using x = Tensor.from(xd, [3, 8]);
    noLeak(() => { applyRope(x, { cos: c, sin: s, positions: [11, 0, 4] }); });
    expectClose(x.data, rope64(xd, 3, 8, 8, [11, 0, 4], 'half'), 'tables', 2e-6, 2e-6);
  });
});

describe('feed-forward networks on the fused kernels', () => {
  it('bias + GELU in one pass, and SwiGLU with biases, against float64', () => {
    const R = 7, E = 12, F = 17;
    const xd = randoms(R * E, 1, -1, 1), w1 = randoms(F * E, 2, -0.5, 0.5), b1 = randoms(F, 3, -1, 1);
    const w2 = randoms(E * F, 4, -0.5, 0.5), b2 = randoms(E, 5, -1, 1);
    using x = Tensor.from(xd, [R, E]);
    using y = feedForward(x, { w1, b1, w2, b2, activation: 'gelu' });
    expectClose(y.data, ffn64(xd, R, E, { w1, b1, w2, b2, F }, gelu64), 'ffn gelu', 1e-5, 1e-5);
    const up = randoms(F * E, 6, -0.5, 0.5);
    using z = gatedFeedForward(x, { gate: w1, up, down: w2 });
    expectClose(z.data, gatedFfn64(xd, R, E, F, w1, up, w2, silu64), 'swiglu', 1e-5, 1e-5);
    noLeak(() => {
      expect(() => feedForward(x, { w1, b1: [1, 2], w2 })).toThrow(/b1 \[17\] has 2 values, expected 17/);
      expect(() => gatedFeedForward(x, { gate: w1, up, down: w2, activation: 'tanh' as never })).toThrow(/activation must be one of/);
    });
  });
});
