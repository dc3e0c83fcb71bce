// KVCache in every storage dtype against float64 references on the original float32
// data: decode token by token, the sliding window, truncate, and the memory held.
import { describe, expect, it } from 'vitest';
import { KVCache, Tensor, attention, memoryStats, type CacheDType } from '../../ts/index.js';
import { attention64, randoms, worstError } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { decode, rows } from './helpers/kv-feed.js';

/** Worst absolute output error allowed for unit-scale data (docs/toolkit.md lists the measured errors). */
const BOUND: Record<CacheDType, number> = { float32: 2e-5, float16: 3e-3, bfloat16: 2e-2, int8: 2e-2 };
const DTYPES: CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];

describe('KVCache storage dtypes', () => {
  for (const dtype of DTYPES) {
    it(`${dtype}: prefill chunk then token by token equals float64 causal attention (GQA, Dv ≠ D)`, () => {
      const [Hq, Hkv, T, D, Dv] = [8, 2, 300, 64, 48];
      const q = randoms(Hq * T * D, 1), k = randoms(Hkv * T * D, 2, -2, 2), v = randoms(Hkv * T * Dv, 3);
      using cache = new KVCache({ maxLength: 320, numKvHeads: Hkv, headDim: D, valueDim: Dv, dtype });
      expect(cache.dtype).toBe(dtype);
      const chunks = [40, 3, ...Array<number>(T - 43).fill(1)];
      const got = decode(cache, q, k, v, Hq, Hkv, T, D, Dv, chunks);
      const ref = attention64(q, k, v, 1, Hq, Hkv, T, T, D, Dv, { causal: true });
      const w = worstError(got, ref.out, BOUND[dtype], 0);
      expect(w.ratio, `${dtype}: worst |error| ${Math.abs(w.got - w.want)} at ${w.index} (bound ${BOUND[dtype]})`)
        .toBeLessThanOrEqual(1);
      // Not trivially exact either: the 16-bit and 8-bit caches do change the result.
      if (dtype !== 'float32') expect(worstError(got, ref.out, 1e-6, 0).ratio).toBeGreaterThan(1);
    });

    it(`${dtype}: sliding window and truncate`, () => {
      const [Hq, Hkv, T, D, W] = [4, 2, 90, 16, 9];
      const q = randoms(Hq * T * D, 4), k = randoms(Hkv * T * D, 5), v = randoms(Hkv * T * D, 6);
      const ref = attention64(q, k, v, 1, Hq, Hkv, T, T, D, D, { causal: true, window: [W - 1, 0] });
      using cache = new KVCache({ maxLength: 20, numKvHeads: Hkv, headDim: D, window: W, dtype });
      const got = decode(cache, q, k, v, Hq, Hkv, T, D, D, [5, 2, ...Array<number>(T - 7).fill(1)]);
      expect(cache.length).toBeLessThanOrEqual(20);
      const w = worstError(got, ref.out, BOUND[dtype], 0);
      expect(w.ratio, `${dtype} window: worst at ${w.index}: ${w.got} vs ${w.want}`).toBeLessThanOrEqual(1);

      // Truncate: junk appended and rolled back leaves the same result as never appending it.
      using full = new KVCache({ maxLength: 40, numKvHeads: Hkv, headDim: D, dtype });
      using kt = Tensor.from(rows(k, Hkv, T, D, 0, 30), [Hkv, 30, D]);
      using vt = Tensor.from(rows(v, Hkv, T, D, 0, 30), [Hkv, 30, D]);
      using junk = Tensor.from(randoms(Hkv * 5 * D, 99, -50, 50), [Hkv, 5, D]);
      using q1 = Tensor.from(rows(q, Hq, T, D, 29, 30), [Hq, 1, D]);
      full.append(kt, vt);
      using before = full.attend(q1);
      full.append(junk, junk).truncate(30);
      using after = full.attend(q1);
      expect(Array.from(after.data)).toEqual(Array.from(before.data));
    });
  }

  it('float16 cache (fast widening of finite data) equals attention on float16 tensors; inf switches it off', () => {
    const [Hq, Hkv, T, D] = [4, 2, 50, 32];
    const k = randoms(Hkv * T * D, 21, -2, 2), v = randoms(Hkv * T * D, 22);
    // Subnormal and zero halves, both signs, in keys and values.
    for (let i = 0; i < k.length; i += 7) { k[i] = (i % 2 ? -1 : 1) * 2 ** -20 * (i % 13); v[i] = -k[i]!; }
    k[3] = -0;
    const q = randoms(Hq * D, 23, -4, 4);
    using cache = new KVCache({ maxLength: T + 1, numKvHeads: Hkv, headDim: D, dtype: 'float16' });
    using kt = Tensor.from(k, [Hkv, T, D]);
    using vt = Tensor.from(v, [Hkv, T, D]);
    cache.append(kt, vt);
    using qt = Tensor.from(q, [Hq, 1, D]);
    using got = cache.attend(qt);
    using k16 = Tensor.from(k, [Hkv, T, D], { dtype: 'float16' });
    using v16 = Tensor.from(v, [Hkv, T, D], { dtype: 'float16' });
    using want = attention(qt, k16, v16, { causal: true });
    expectClose(got.data, want.data, 'f16 cache vs f16 attention', 1e-6, 0);
    const exact = attention64(q, k16.toArray(), v16.toArray(), 1, Hq, Hkv, 1, T, D, D, {});
    expectClose(got.data, exact.out, 'f16 cache vs float64 on the stored values', 2e-6, 2e-5);
    // An infinite value stored: the cache must still see it exactly (the slow path).
    using kinf = Tensor.from(new Float32Array(Hkv * D).fill(Infinity), [Hkv, 1, D]);
    using vz = Tensor.zeros([Hkv, 1, D]);
    cache.append(kinf, vz);
    using after = cache.attend(qt);
    expect(Array.from(after.data).some(Number.isNaN)).toBe(true);
  });

  it('float16 cache with very large queries (the raw-lane factor is split between queries and scores)', () => {
    // |q·scale|·2^112 would overflow float32 beyond ~2e3; the kernel moves part of the
    // factor onto the scores. Softer and sharper score ranges, against both references.
    const [Hq, Hkv, T, D] = [4, 2, 40, 16];
    const k = randoms(Hkv * T * D, 31, -2, 2), v = randoms(Hkv * T * D, 32);
    using cache = new KVCache({ maxLength: T, numKvHeads: Hkv, headDim: D, dtype: 'float16' });
    using kt = Tensor.from(k, [Hkv, T, D]);
    using vt = Tensor.from(v, [Hkv, T, D]);
    cache.append(kt, vt);
    using k16 = Tensor.from(k, [Hkv, T, D], { dtype: 'float16' });
    using v16 = Tensor.from(v, [Hkv, T, D], { dtype: 'float16' });
    for (const [amp, scale] of [[3e4, 1], [1e5, 1], [1e6, 1], [1e30, 1e-30]] as const) {
      const q = randoms(Hq * D, 33, -amp, amp);
      using qt = Tensor.from(q, [Hq, 1, D]);
      using got = cache.attend(qt, { scale });
      using want = attention(qt, k16, v16, { causal: true, scale });
      expectClose(got.data, want.data, `f16 cache vs f16 attention, |q| ≤ ${amp}`, 1e-6, 1e-6);
      const exact = attention64(q, k16.toArray(), v16.toArray(), 1, Hq, Hkv, 1, T, D, D, { scale });
      expectClose(got.data, exact.out, `f16 cache vs float64, |q| ≤ ${amp}`, 2e-6, 2e-5);
      expect(Array.from(got.data).every(Number.isFinite)).toBe(true);
    }
  });

  it('bytes per dtype; an int8 cache of 32768 tokens at Hkv = 8, D = 128 fits in 66 MiB', () => {
    const cfg = { maxLength: 1000, numKvHeads: 2, headDim: 64 };
    const bytes = (dtype: CacheDType) => {
      using c = new KVCache({ ...cfg, dtype });
      return c.bytes;
    };
    expect(bytes('float32')).toBe(2 * 2 * 1000 * 64 * 4);
    expect(bytes('float16')).toBe(2 * 2 * 1000 * 64 * 2);
    expect(bytes('bfloat16')).toBe(2 * 2 * 1000 * 64 * 2);
    expect(bytes('int8')).toBe(2 * 2 * 1000 * (64 + 4));
    const base = memoryStats().liveBytes;
    using big = new KVCache({ maxLength: 32768, numKvHeads: 8, headDim: 128, dtype: 'int8' });
    expect(big.bytes).toBe(2 * 8 * 32768 * (128 + 4));
    expect(memoryStats().liveBytes - base).toBeLessThanOrEqual(66 * 2 ** 20 + 64);
  });

  it('rejects bad dtypes and int8 tensor views; dispose frees everything', () => {
    expect(() => new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2, dtype: 'int4' as never }))
      .toThrow(/KVCache: dtype must be 'float32', 'float16', 'bfloat16', 'int8'; got string int4/);
    const before = memoryStats();
    const c = new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2, dtype: 'int8' });
    expect(() => c.keys).toThrow(/int8 cache stores codes and row scales/);
    using h = Tensor.zeros([1, 1, 2], { dtype: 'float16' });
    expect(() => c.append(h as never, h as never)).toThrow(/KVCache.append: k has dtype float16, but KVCache.append takes float32/);
    c.dispose();
    c.dispose();
    const after = memoryStats();
    expect(after.liveBlocks).toBe(before.liveBlocks + 1); // h
    expect(after.liveBytes).toBe(before.liveBytes + 16);
    using z = Tensor.zeros([1, 1, 2]);
    expect(() => c.append(z, z)).toThrow(/after dispose/);
    using f16 = new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2, dtype: 'float16' });
    expect(f16.keys.dtype).toBe('float16');
    f16.append(Tensor.from([1, 2], [1, 1, 2]), Tensor.from([3, 4], [1, 1, 2]));
    expect(Array.from(f16.keys.toArray().subarray(0, 2))).toEqual([1, 2]);
  });

  it('int8 row quantisation keeps zero rows exact and a NaN poisons only its rows', () => {
    using c = new KVCache({ maxLength: 8, numKvHeads: 1, headDim: 4, dtype: 'int8' });
    using k = Tensor.from([0, 0, 0, 0, 1, -1, 0.5, 0.25], [1, 2, 4]);
    using v = Tensor.from([0, 0, 0, 0, 2, 4, 6, 8], [1, 2, 4]);
    c.append(k, v);
    using q = Tensor.from([1, 1, 1, 1], [1, 1, 4]);
    using out = c.attend(q);
    const ref = attention64([1, 1, 1, 1], k.toArray(), v.toArray(), 1, 1, 1, 1, 2, 4, 4, {});
    expectClose(out.data, ref.out, 'int8 small', 0, 2e-2);
    using bad = Tensor.from([NaN, 1, 1, 1], [1, 1, 4]);
    c.append(bad, bad);
    using o2 = c.attend(q);
    expect(Array.from(o2.data).every(Number.isNaN)).toBe(true);
    c.truncate(2);
    using o3 = c.attend(q);
    expect(Array.from(o3.data)).toEqual(Array.from(out.data));
  });
});
