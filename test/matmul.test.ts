import { describe, expect, it } from 'vitest';
import { Tensor, matmul } from '../ts/index.js';
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

describe('matmul with a float16 / bfloat16 B operand (widened while packing)', () => {
  // Float64 values of 16-bit patterns, decoded from the formats' definitions.
  const f16 = (h: number) => {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
    return s * (e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15));
  };
  const bf16 = (h: number) => {
    const s = h & 0x8000 ? -1 : 1, e = (h >> 7) & 0xff, m = h & 0x7f;
    return s * (e === 0 ? m * 2 ** -133 : (1 + m / 128) * 2 ** (e - 127));
  };
  /** Finite patterns of magnitude < 4, subnormals and ±0 included. */
  const bits = (n: number, seed: number, dtype: 'float16' | 'bfloat16') => {
    const out = new Uint16Array(n);
    let x = seed * 2654435761 >>> 0;
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      const sign = (x & 1) << 15, mant = x >>> 8;
      out[i] = dtype === 'float16'
        ? sign | (((x >>> 1) % 17) << 10) | (mant & 0x3ff)
        : sign | ((i % 29 === 0 ? 0 : 100 + ((x >>> 1) % 29)) << 7) | (mant & 0x7f);
    }
    return out;
  };
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const decode = dtype === 'float16' ? f16 : bf16;
    for (const [m, k, n] of [[1, 7, 3], [5, 64, 17], [33, 130, 41], [3, 600, 65]] as const) {
      it(`${dtype} Linear weight: [${m},${k}]·[${n},${k}]ᵀ`, () => {
        const xd = randoms(m * k, m + k), wb = bits(n * k, n + k, dtype);
        const wd = Float32Array.from(wb, decode);
        using x = Tensor.from(xd, [m, k]);
        using w = Tensor.from(wb, [n, k], { dtype });
        expect(w.dtype).toBe(dtype);
        using y = matmul(x, w, { transposeB: true });
        expectClose(y.data, matmul64(xd, transpose(wd, n, k), m, k, n), `x·Wᵀ (${dtype})`, 1e-6 * (k + 1), 1e-5);
        // Bit-for-bit the product with the float32 copy of the weights.
        using w32 = Tensor.from(wd, [n, k]);
        using y32 = matmul(x, w32, { transposeB: true });
        expect(Array.from(y.data)).toEqual(Array.from(y32.data));
      });
    }
    it(`${dtype} B, not transposed, batched per matrix and with α/β`, () => {
      const [batch, m, k, n] = [3, 9, 33, 20];
      const ad = randoms(batch * m * k, 5), bb = bits(batch * k * n, 6, dtype), cd = randoms(batch * m * n, 7);
      const bd = Float32Array.from(bb, decode);
      using a = Tensor.from(ad, [batch, m, k]);
      using b = Tensor.from(bb, [batch, k, n], { dtype });
      using c = Tensor.from(cd, [batch, m, n]);
      matmul(a, b, { alpha: 0.5, beta: 2, out: c });
      for (let i = 0; i < batch; i++) {
        const want = matmul64(ad.subarray(i * m * k, (i + 1) * m * k), bd.subarray(i * k * n, (i + 1) * k * n), m, k, n,
          { alpha: 0.5, beta: 2, c0: cd.subarray(i * m * n, (i + 1) * m * n) });
        expectClose(c.data.subarray(i * m * n, (i + 1) * m * n), want, `batch ${i} (${dtype})`);
      }
    });
  }

  it('a 16-bit A operand is rejected with a clear error', () => {
    using a = Tensor.from([1, 2, 3, 4], [2, 2], { dtype: 'float16' });
    using b = Tensor.from([1, 2, 3, 4], [2, 2]);
    expect(() => matmul(a as unknown as Tensor, b)).toThrow(/a has dtype float16, but matmul takes float32/);
  });
});

function transpose(x: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = x[i * cols + j]!;
  return t;
}
