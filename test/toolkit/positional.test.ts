import { describe, expect, it } from 'vitest';
import { Tensor, addPositional, applyRope, sinusoidalEncoding } from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { rope64, sinusoid64 } from './helpers/reference-nn.js';

describe('sinusoidal positional encoding', () => {
  it('matches PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(…), even and odd d', () => {
    for (const [L, d] of [[50, 16], [7, 5], [1, 1]]) {
      using pe = sinusoidalEncoding(L, d);
      expect(pe.shape).toEqual([L, d]);
      expectClose(pe.data, sinusoid64(L, d), `PE ${L}×${d}`, 1e-6, 1e-6);
    }
  });

  it('addPositional adds rows in place, with an offset, over leading axes', () => {
    const [B, L, d] = [2, 4, 6];
    const xd = randoms(B * L * d, 1);
    using x = Tensor.from(xd, [B, L, d]);
    using pe = sinusoidalEncoding(10, d);
    expect(addPositional(x, pe, { offset: 3 })).toBe(x);
    const ref = sinusoid64(10, d);
    const want = Array.from(xd, (v, e) => v + ref[(3 + Math.floor(e / d) % L) * d + (e % d)]!);
    expectClose(x.data, want, 'x + PE[3 + l]', 1e-6, 1e-6);
    expect(() => addPositional(x, pe, { offset: 7 })).toThrow(RangeError);
  });
});

describe('RoPE', () => {
  for (const style of ['half', 'interleaved'] as const) {
    it(`${style}: matches the complex-rotation reference (offset, explicit positions, heads side by side, partial)`, () => {
      const [B, L, H, Dh] = [2, 5, 3, 8];
      const xd = randoms(B * L * H * Dh, 2);
      using a = Tensor.from(xd, [B, H, L, Dh]);
      applyRope(a, { style, offset: 4 });
      expectClose(a.data, rope64(xd, L, Dh, Dh, [4, 5, 6, 7, 8], style), 'offset 4', 1e-6, 1e-5);
      const positions = [0, 3, 100, 1000, 7];
      using b = Tensor.from(xd, [B, L, H * Dh]);
      applyRope(b, { style, positions, headDim: Dh, base: 500 });
      expectClose(b.data, rope64(xd, L, H * Dh, Dh, positions, style, 500), 'positions, [B, L, H·D]', 1e-5, 1e-5);
      using c = Tensor.from(xd, [B, H, L, Dh]);
      applyRope(c, { style, rotaryDim: 4 });
      expectClose(c.data, rope64(xd, L, Dh, Dh, [0, 1, 2, 3, 4], style, 10000, 4), 'rotaryDim 4', 1e-6, 1e-5);
    });
  }

  it('q·k after RoPE depends only on the distance m − n', () => {
    const D = 16;
    const qd = randoms(D, 3), kd = randoms(D, 4);
    const dot = (m: number, n: number) => {
      using q = Tensor.from(qd, [1, D]);
      using k = Tensor.from(kd, [1, D]);
      applyRope(q, { offset: m });
      applyRope(k, { offset: n });
      return q.data.reduce((s, v, i) => s + v * k.data[i]!, 0);
    };
    expect(dot(10, 7)).toBeCloseTo(dot(3, 0), 4);
    expect(dot(50, 20)).toBeCloseTo(dot(130, 100), 4);
    expect(Math.abs(dot(10, 7) - dot(10, 2))).toBeGreaterThan(1e-3);
  });

  it('rejects odd head sizes and bad positions', () => {
    using x = Tensor.zeros([2, 5]);
    expect(() => applyRope(x)).toThrow(/must be even/);
    using y = Tensor.zeros([2, 4]);
    expect(() => applyRope(y, { positions: [1] })).toThrow(/positions needs 2 entries/);
    expect(() => applyRope(y, { headDim: 3 })).toThrow(/headDim 3 must divide/);
  });
});
