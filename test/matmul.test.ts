import { describe, expect, it } from 'vitest';
import { Tensor, matmul } from '../dist/index.js';
import { matmul64, randoms } from './helpers/reference.js';
import { expectClose } from './helpers/expect-close.js';

const SIZES = [0, 1, 3, 17, 64, 65, 129];

describe('matmul against a float64 reference', () => {
  for (const m of SIZES) {
    for (const k of [0, 1, 3, 17, 65, 129]) {
      for (const n of [1, 3, 17, 64, 65, 129]) {
        if ((m > 64 ? 1 : 0) + (k > 64 ? 1 : 0) + (n > 64 ? 1 : 0) > 1 && !(m === k && k === n)) continue;
        it(`[${m},${k}]·[${k},${n}]`, () => {
          const ad = randoms(m * k, m * 1000 + k), bd = randoms(k * n, k * 7 + n);
          using a = Tensor.from(ad, [m, k]);
          using b = Tensor.from(bd, [k, n]);
          using c = matmul(a, b);
          expect(c.shape).toEqual([m, n]);
          expectClose(c.data, matmul64(ad, bd, m, k, n), 'A·B', 1e-6 * (k + 1), 1e-5);
          using bt = Tensor.from(transpose(bd, k, n), [n, k]);
          using ct = matmul(a, bt, { transposeB: true });
          expectClose(ct.data, matmul64(ad, bd, m, k, n), 'A·(Bᵀ)ᵀ', 1e-6 * (k + 1), 1e-5);
        });
      }
    }
  }

  it('alpha and beta accumulate into out; beta = 0 ignores NaN in out', () => {
    const [m, k, n] = [17, 33, 19];
    const ad = randoms(m * k, 1), bd = randoms(k * n, 2), cd = randoms(m * n, 3);
    using a = Tensor.from(ad, [m, k]);
    using b = Tensor.from(bd, [k, n]);
    using c = Tensor.from(cd, [m, n]);
    matmul(a, b, { alpha: 0.5, beta: -2, out: c });
    expectClose(c.data, matmul64(ad, bd, m, k, n, { alpha: 0.5, beta: -2, c0: cd }), 'α·A·B + β·C');
    c.data.fill(NaN);
    matmul(a, b, { out: c });
    expectClose(c.data, matmul64(ad, bd, m, k, n), 'β = 0');
  });

  it('A·I = A and I·B = B exactly', () => {
    for (const n of [1, 5, 16, 31]) {
      const id = new Float32Array(n * n);
      for (let i = 0; i < n; i++) id[i * n + i] = 1;
      const ad = randoms(7 * n, n);
      using a = Tensor.from(ad, [7, n]);
      using eye = Tensor.from(id, [n, n]);
      using ai = matmul(a, eye);
      expect(Array.from(ai.data)).toEqual(Array.from(ad));
      using at = Tensor.from(transpose(ad, 7, n), [n, 7]);
      using ib = matmul(eye, at);
      expect(Array.from(ib.data)).toEqual(Array.from(at.data));
    }
  });

  it('batched: [B,m,k]·[B,k,n] and [B,m,k]·[k,n]', () => {
    const [B, m, k, n] = [3, 5, 9, 4];
    const ad = randoms(B * m * k, 11), bd = randoms(B * k * n, 12);
    using a = Tensor.from(ad, [B, m, k]);
    using b = Tensor.from(bd, [B, k, n]);
    using c = matmul(a, b);
    expect(c.shape).toEqual([B, m, n]);
    using shared = Tensor.from(bd.subarray(0, k * n), [k, n]);
    using c2 = matmul(a, shared);
    for (let i = 0; i < B; i++) {
      const ai = ad.subarray(i * m * k, (i + 1) * m * k);
      expectClose(c.data.subarray(i * m * n, (i + 1) * m * n),
        matmul64(ai, bd.subarray(i * k * n, (i + 1) * k * n), m, k, n), `batch ${i}`);
      expectClose(c2.data.subarray(i * m * n, (i + 1) * m * n),
        matmul64(ai, bd.subarray(0, k * n), m, k, n), `shared batch ${i}`);
    }
  });

  it('rejects bad shapes, aliasing and disposed tensors with clear errors', () => {
    using a = Tensor.from(randoms(6, 1), [2, 3]);
    using b = Tensor.from(randoms(8, 2), [4, 2]);
    expect(() => matmul(a, b)).toThrow(/inner sizes differ: a \[2, 3\] has k=3 but b \[4, 2\] has k=4/);
    using v = Tensor.from([1, 2, 3]);
    expect(() => matmul(v, b)).toThrow(RangeError);
    using sq = Tensor.from(randoms(9, 3), [3, 3]);
    expect(() => matmul(sq, sq, { out: sq })).toThrow(/out must not be the same tensor as a/);
    using wrong = Tensor.zeros([3, 3]);
    expect(() => matmul(a, sq, { out: wrong })).toThrow(/out has shape \[3, 3\], expected \[2, 3\]/);
    const d = Tensor.from(randoms(9, 3), [3, 3]);
    d.dispose();
    expect(() => matmul(a, d)).toThrow(/b \(shape \[3, 3\]\) was used after dispose\(\)/);
    expect(() => matmul(a, [1, 2] as unknown as Tensor)).toThrow(TypeError);
    // The module still works after rejected calls.
    using ok = matmul(a, sq);
    expect(ok.shape).toEqual([2, 3]);
  });
});

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j]!;
  return t;
}
