// Numeric semantics: NaN propagates as in PyTorch, infinities and huge logits do
// not create NaN where the result is finite, blocked rows are 0, empty key sets
// are defined, subnormals are ordinary numbers.
import { describe, expect, it } from 'vitest';
import { Tensor, attention, matmul, softmax } from '../../ts/index.js';
import { attention64, randoms, softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

describe('softmax numerics', () => {
  it('NaN makes its row NaN and leaves other rows alone', () => {
    using x = Tensor.from([1, NaN, 3, 1, 2, 3], [2, 3]);
    using y = softmax(x);
    expect(Array.from(y.data.subarray(0, 3)).every(Number.isNaN)).toBe(true);
    expectClose(y.data.subarray(3), softmaxRow64([1, 2, 3]), 'clean row');
  });

  it('−∞ entries get weight 0; all −∞ rows are 0; +∞ gives NaN like PyTorch', () => {
    using x = Tensor.from([-Infinity, 0, 0, -Infinity, -Infinity, -Infinity, Infinity, 0, 1], [3, 3]);
    using y = softmax(x);
    expect(Array.from(y.data.subarray(0, 6))).toEqual([0, 0.5, 0.5, 0, 0, 0]);
    expect(Array.from(y.data.subarray(6)).some(Number.isNaN)).toBe(true);
  });

  it('huge finite logits (±1e30, ±3e38) stay finite', () => {
    const rows = [[1e30, 0, -1e30], [3e38, 3e38, -3e38], [-1e30, -1e30, -1e30], [1e-30, 2e-30, 0]];
    using x = Tensor.from(rows.flat(), [4, 3]);
    using y = softmax(x);
    rows.forEach((r, i) => expectClose(y.data.subarray(i * 3, i * 3 + 3), softmaxRow64(r), `row ${i}`, 1e-6, 1e-5));
  });

  it('subnormal inputs are ordinary numbers', () => {
    const r = [1e-40, -1e-41, 3e-39, 0];
    using x = Tensor.from(r, [1, 4]);
    using y = softmax(x);
    expectClose(y.data, [0.25, 0.25, 0.25, 0.25], 'uniform', 1e-7, 0);
    using a = Tensor.from([1e-39, 2e-39], [1, 2]);
    using b = Tensor.from([1, 1], [2, 1]);
    using c = matmul(a, b);
    expect(c.data[0]).toBe(Math.fround(Math.fround(1e-39) + Math.fround(2e-39))); // exact, not flushed to 0
  });
});

describe('attention numerics', () => {
  it('NaN in one query row makes only that output row NaN', () => {
    const [L, D] = [9, 8];
    const qd = randoms(L * D, 1), kd = randoms(L * D, 2), vd = randoms(L * D, 3);
    qd[4 * D + 2] = NaN;
    using q = Tensor.from(qd, [L, D]);
    using k = Tensor.from(kd, [L, D]);
    using v = Tensor.from(vd, [L, D]);
    using o = attention(q, k, v);
    for (let i = 0; i < L; i++) {
      const row = Array.from(o.data.subarray(i * D, (i + 1) * D));
      expect(row.every(Number.isNaN), `row ${i}`).toBe(i === 4);
      if (i !== 4) expect(row.some(Number.isNaN), `row ${i}`).toBe(false);
    }
  });

  it('NaN in a key poisons the rows that see it, not causally earlier rows', () => {
    const [L, D] = [12, 4];
    const qd = randoms(L * D, 4), kd = randoms(L * D, 5), vd = randoms(L * D, 6);
    kd[7 * D] = NaN;
    using q = Tensor.from(qd, [L, D]);
    using k = Tensor.from(kd, [L, D]);
    using v = Tensor.from(vd, [L, D]);
    using o = attention(q, k, v, { causal: true });
    const clean = attention64(qd, kd, vd, 1, 1, 1, L, L, D, D, { causal: true }).out;
    expectClose(o.data.subarray(0, 7 * D), clean.subarray(0, 7 * D), 'rows before the NaN key');
    for (let i = 7; i < L; i++) expect(Number.isNaN(o.data[i * D]!), `row ${i}`).toBe(true);
  });

  it('huge scores (±1e30 after scaling) give the exact arg-max value rows, not NaN', () => {
    const D = 2;
    using q = Tensor.from([1, 0, -1, 0], [2, D]);
    using k = Tensor.from([1, 0, 0.5, 0, -1, 0], [3, D]);
    using v = Tensor.from([10, 11, 20, 21, 30, 31], [3, D]);
    using o = attention(q, k, v, { scale: 1e30 });
    expect(Array.from(o.data)).toEqual([10, 11, 30, 31]);
  });

  it('empty key sets: Lk = 0 gives zeros and lse −∞; Lq = 0 gives an empty output', () => {
    using q = Tensor.from(randoms(3 * 4, 1), [3, 4]);
    using k0 = Tensor.zeros([0, 4]);
    using v0 = Tensor.zeros([0, 5]);
    const r = attention(q, k0, v0, { returnLse: true });
    expect(r.out.shape).toEqual([3, 5]);
    expect(Array.from(r.out.data)).toEqual(new Array(15).fill(0));
    expect(Array.from(r.lse.data)).toEqual([-Infinity, -Infinity, -Infinity]);
    r.out.dispose();
    r.lse.dispose();
    using q0 = Tensor.zeros([0, 4]);
    using k = Tensor.from(randoms(2 * 4, 2), [2, 4]);
    using v = Tensor.from(randoms(2 * 5, 3), [2, 5]);
    using o = attention(q0, k, v);
    expect(o.shape).toEqual([0, 5]);
  });

  it('causal with more queries than keys: rows with no visible key give 0', () => {
    const [Lq, Lk, D] = [6, 3, 4];
    const qd = randoms(Lq * D, 7), kd = randoms(Lk * D, 8), vd = randoms(Lk * D, 9);
    using q = Tensor.from(qd, [Lq, D]);
    using k = Tensor.from(kd, [Lk, D]);
    using v = Tensor.from(vd, [Lk, D]);
    const r = attention(q, k, v, { causal: true, returnLse: true });
    const ref = attention64(qd, kd, vd, 1, 1, 1, Lq, Lk, D, D, { causal: true });
    expectClose(r.out.data, ref.out, 'out');
    expect(Array.from(r.out.data.subarray(0, 3 * D))).toEqual(new Array(3 * D).fill(0));
    expect(Array.from(r.lse.data.subarray(0, 3))).toEqual([-Infinity, -Infinity, -Infinity]);
    r.out.dispose();
    r.lse.dispose();
  });
});
