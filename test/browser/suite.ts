// The correctness checks run in the browser against either entry: matmul, softmax,
// attention (with its options) and attention weights against the float64 references,
// Tensor views across memory growth, and the errors of misuse.
import { describe, expect, it } from 'vitest';
import { attention64, matmul64, randoms, softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

/** The sources' API; dist/'s is the same, but its classes' private fields make TypeScript tell them apart. */
export type Lib = typeof import('../../ts/index.js');

export function correctnessSuite(lib: Lib): void {
  const { Tensor, matmul, softmax, attention, attentionWeights, reserveMemory, memoryStats } = lib;

  describe('matmul', () => {
    it.each([[1, 1, 1], [7, 13, 5], [64, 48, 33], [130, 70, 129]])('[%i×%i]·[%i]', (m, k, n) => {
      const a = randoms(m * k, m + 1), b = randoms(k * n, n + 2);
      using ta = Tensor.from(a, [m, k]);
      using tb = Tensor.from(b, [k, n]);
      using c = matmul(ta, tb);
      expect(c.shape).toEqual([m, n]);
      expectClose(c.data, matmul64(a, b, m, k, n), 'matmul');
    });

    it('transposeB, alpha and beta into out', () => {
      const [m, k, n] = [9, 17, 11];
      const a = randoms(m * k, 1), b = randoms(n * k, 2), c0 = randoms(m * n, 3);
      using ta = Tensor.from(a, [m, k]);
      using tb = Tensor.from(b, [n, k]);
      using out = Tensor.from(c0, [m, n]);
      matmul(ta, tb, { transposeB: true, alpha: 0.5, beta: -2, out });
      expectClose(out.data, matmul64(a, b, m, k, n, { transB: true, alpha: 0.5, beta: -2, c0 }), 'gemm');
    });
  });

  describe('softmax', () => {
    it('rows against softmaxRow64, including huge logits and -Infinity', () => {
      const [rows, cols] = [6, 37];
      const x = randoms(rows * cols, 4, -10, 10);
      x[3] = 3e38; x[cols + 1] = -Infinity;
      x.fill(-Infinity, 2 * cols, 3 * cols); // a fully masked row gives zeros
      using t = Tensor.from(x, [rows, cols]);
      using y = softmax(t);
      const want = new Float64Array(rows * cols);
      for (let r = 0; r < rows; r++) want.set(softmaxRow64(x.subarray(r * cols, (r + 1) * cols)), r * cols);
      expectClose(y.data, want, 'softmax');
    });
  });

  describe('attention', () => {
    const cases = [
      { name: 'causal MHA', B: 2, Hq: 3, Hkv: 3, Lq: 40, Lk: 40, D: 16, Dv: 16, o: { causal: true } },
      { name: 'GQA, Lq ≠ Lk, causal bottom-right', B: 1, Hq: 4, Hkv: 2, Lq: 7, Lk: 70, D: 32, Dv: 8, o: { causal: true } },
      { name: 'sliding window + softcap', B: 1, Hq: 2, Hkv: 1, Lq: 65, Lk: 65, D: 8, Dv: 8,
        o: { causal: true, window: [5, 0] as [number, number], softcap: 2 } },
      { name: 'ALiBi + sinks + scale', B: 1, Hq: 2, Hkv: 2, Lq: 19, Lk: 23, D: 12, Dv: 12,
        o: { alibiSlopes: [0.5, 0.125], sinks: [1, -2], scale: 0.3 } },
    ];
    it.each(cases)('$name', ({ B, Hq, Hkv, Lq, Lk, D, Dv, o }) => {
      const q = randoms(B * Hq * Lq * D, 10, -2, 2), k = randoms(B * Hkv * Lk * D, 11, -2, 2);
      const v = randoms(B * Hkv * Lk * Dv, 12);
      using qt = Tensor.from(q, [B, Hq, Lq, D]);
      using kt = Tensor.from(k, [B, Hkv, Lk, D]);
      using vt = Tensor.from(v, [B, Hkv, Lk, Dv]);
      const r = attention(qt, kt, vt, { ...o, returnLse: true });
      const want = attention64(q, k, v, B, Hq, Hkv, Lq, Lk, D, Dv,
        { ...o, alibi: (o as { alibiSlopes?: number[] }).alibiSlopes });
      expectClose(r.out.data, want.out, 'out');
      expectClose(r.lse.data, want.lse, 'lse');
      // Attention weights of some rows, normalised with the kernel's lse.
      using w = attentionWeights(qt, kt, { ...o, lse: r.lse, rowStart: 1, rowCount: 3 });
      const wantW = new Float64Array(B * Hq * 3 * Lk);
      for (let bh = 0; bh < B * Hq; bh++) {
        wantW.set(want.weights.subarray((bh * Lq + 1) * Lk, (bh * Lq + 4) * Lk), bh * 3 * Lk);
      }
      expectClose(w.data, wantW, 'weights');
      r.out.dispose(); r.lse.dispose();
    });

    it('a causal row with no visible key gives 0 and lse -Infinity', () => {
      // Lq > Lk: the first query row sees no key.
      using q = Tensor.from(randoms(3 * 4, 20), [3, 4]);
      using k = Tensor.from(randoms(2 * 4, 21), [2, 4]);
      using v = Tensor.from(randoms(2 * 4, 22), [2, 4]);
      const r = attention(q, k, v, { causal: true, returnLse: true });
      expect(Array.from(r.out.data.subarray(0, 4))).toEqual([0, 0, 0, 0]);
      expect(r.lse.data[0]).toBe(-Infinity);
      r.out.dispose(); r.lse.dispose();
    });
  });

  describe('Tensor', () => {
    it('data is a live view that survives memory growth; toArray copies', () => {
      using t = Tensor.from([1, 2, 3, 4], [2, 2]);
      t.data[1] = 20;
      const copy = t.toArray();
      t.data[0] = 10;
      const old = t.data;
      const before = memoryStats();
      reserveMemory(before.memoryBytes + (16 << 20)); // grows memory: earlier views are detached
      expect(memoryStats().memoryBytes).toBeGreaterThan(before.memoryBytes);
      expect(old.length).toBe(0);
      expect(Array.from(t.data)).toEqual([10, 20, 3, 4]);
      expect(Array.from(copy)).toEqual([1, 20, 3, 4]);
      expect(memoryStats().liveBlocks).toBe(before.liveBlocks);
    });

    it('zeros, empty shapes, disposal and its errors', () => {
      using z = Tensor.zeros([3, 0, 2]);
      expect(z.size).toBe(0);
      const t = Tensor.zeros([2, 3]);
      expect(Array.from(t.data)).toEqual([0, 0, 0, 0, 0, 0]);
      t.dispose();
      expect(t.disposed).toBe(true);
      expect(() => t.data).toThrow('tensor of shape [2, 3] was used after dispose()');
      using u = Tensor.zeros([3, 2]);
      expect(() => matmul(t, u)).toThrow(/after dispose/);
      t.dispose(); // again: nothing
    });

    it('bad input throws clear errors', () => {
      using a = Tensor.zeros([2, 3]);
      using b = Tensor.zeros([4, 4]);
      expect(() => matmul(a, b)).toThrow(RangeError);
      expect(() => matmul(a, b)).toThrow(/inner sizes differ/);
      expect(() => Tensor.from([1, 2, 3], [2, 2])).toThrow(/does not match shape/);
      expect(() => Tensor.from(new BigInt64Array(2) as never)).toThrow(TypeError);
      using q = Tensor.zeros([3, 2, 4]);
      using k = Tensor.zeros([2, 2, 4]);
      expect(() => attention(q, k, k)).toThrow(/multiple/);
    });
  });
}
