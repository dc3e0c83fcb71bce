import { describe, expect, it } from 'vitest';
import { KVCache, Tensor, attention, decodeStep, memoryStats } from '../../ts/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { decode, rows } from './helpers/kv-feed.js';

describe('KVCache', () => {
  it('a model\'s planned attention reading the cache as cold (streaming order) equals the cached order and float64', () => {
    // Groups of 4 and 1 query rows, one key to a few hundred: the decode kernel's streaming
    // order (taken for cold K/V at any size) against its cached order and the reference.
    for (const [Hq, Hkv, T, D] of [[8, 2, 1, 16], [8, 2, 3, 16], [8, 2, 300, 16], [3, 3, 129, 20]] as const) {
      const q = randoms(Hq * D, 40 + T), k = randoms(Hkv * T * D, 41 + T), v = randoms(Hkv * T * D, 42 + T);
      using cache = new KVCache({ maxLength: T + 4, numKvHeads: Hkv, headDim: D });
      using kt = Tensor.from(k, [Hkv, T, D]);
      using vt = Tensor.from(v, [Hkv, T, D]);
      cache.append(kt, vt);
      using qt = Tensor.from(q, [Hq, 1, D]);
      const outs = [false, true].map((cold) => {
        using out = Tensor.empty([Hq, 1, D]);
        cache.attendRows({ ptr: qt.ptr, strides: { batch: 0, head: D, row: D } }, Hq, 1,
          { ptr: out.ptr, strides: { batch: 0, head: D, row: D } }, 1 / Math.sqrt(D), cold);
        return out.toArray();
      });
      const ref = attention64(q, k, v, 1, Hq, Hkv, 1, T, D, D, { causal: true });
      expectClose(outs[1]!, ref.out, `cold order vs float64 (${Hq}/${Hkv} heads, ${T} keys)`, 2e-6, 2e-5);
      expectClose(outs[1]!, outs[0]!, `cold order vs cached order (${Hq}/${Hkv} heads, ${T} keys)`, 1e-6, 1e-5);
    }
  });

  it('token-by-token decoding (after a prefill chunk) equals full causal attention (GQA, Dv ≠ D)', () => {
    const [Hq, Hkv, T, D, Dv] = [4, 2, 70, 16, 8];
    const q = randoms(Hq * T * D, 1), k = randoms(Hkv * T * D, 2), v = randoms(Hkv * T * Dv, 3);
    using cache = new KVCache({ maxLength: 80, numKvHeads: Hkv, headDim: D, valueDim: Dv });
    const chunks = [7, ...Array<number>(T - 7).fill(1)];
    const got = decode(cache, q, k, v, Hq, Hkv, T, D, Dv, chunks);
    expect(cache.length).toBe(T);
    expect(cache.position).toBe(T);
    const ref = attention64(q, k, v, 1, Hq, Hkv, T, T, D, Dv, { causal: true });
    expectClose(got, ref.out, 'decode vs float64 causal attention', 2e-5, 2e-4);
    using qt = Tensor.from(q, [Hq, T, D]);
    using kt = Tensor.from(k, [Hkv, T, D]);
    using vt = Tensor.from(v, [Hkv, T, Dv]);
    using full = attention(qt, kt, vt, { causal: true });
    expectClose(got, full.data, 'decode vs the library\'s causal attention', 1e-6, 1e-5);
  });

  it('sliding window: shifting cache equals windowed causal attention over the whole sequence', () => {
    const [Hq, Hkv, T, D, W] = [2, 1, 61, 8, 5];
    const q = randoms(Hq * T * D, 4), k = randoms(Hkv * T * D, 5), v = randoms(Hkv * T * D, 6);
    const ref = attention64(q, k, v, 1, Hq, Hkv, T, T, D, D, { causal: true, window: [W - 1, 0] });
    for (const [maxLength, chunks] of [[12, Array<number>(T).fill(1)], [10, [3, 1, 4, 1, 5, 2, 6, 5, 3, 5, 6, 6, 6, 2, 6]], [5, Array<number>(T).fill(1)]] as const) {
      using cache = new KVCache({ maxLength, numKvHeads: Hkv, headDim: D, window: W });
      const got = decode(cache, q, k, v, Hq, Hkv, T, D, D, [...chunks]);
      expect(cache.length).toBeLessThanOrEqual(maxLength);
      expect(cache.position).toBe(T);
      expectClose(got, ref.out, `window ${W}, maxLength ${maxLength}, chunks ${chunks.slice(0, 4).join(',')}…`, 2e-5, 2e-4);
    }
  });

  it('truncate rolls back: rejected tokens leave no trace', () => {
    const [H, D] = [2, 8];
    const T = 12;
    const q = randoms(H * T * D, 7), k = randoms(H * T * D, 8), v = randoms(H * T * D, 9);
    const junk = randoms(H * 3 * D, 10);
    using cache = new KVCache({ maxLength: 16, numKvHeads: H, headDim: D });
    using kt = Tensor.from(rows(k, H, T, D, 0, 8), [H, 8, D]);
    using vt = Tensor.from(rows(v, H, T, D, 0, 8), [H, 8, D]);
    cache.append(kt, vt);
    using j = Tensor.from(junk, [H, 3, D]);
    cache.append(j, j);
    expect(cache.length).toBe(11);
    cache.truncate(8);
    expect(cache.position).toBe(8);
    using k2 = Tensor.from(rows(k, H, T, D, 8, 12), [H, 4, D]);
    using v2 = Tensor.from(rows(v, H, T, D, 8, 12), [H, 4, D]);
    using q2 = Tensor.from(rows(q, H, T, D, 8, 12), [H, 4, D]);
    using out = cache.append(k2, v2).attend(q2);
    const ref = attention64(q, k, v, 1, H, H, T, T, D, D, { causal: true });
    expectClose(out.data, rows(Float32Array.from(ref.out), H, T, D, 8, 12), 'after rollback', 2e-5, 2e-4);
    expect(() => cache.truncate(13)).toThrow(RangeError);
  });

  it('a decode step at the benchmark size (Lk = 4096, Hq = 32, Hkv = 8, D = 128) reads the cache in place', () => {
    const [Hq, Hkv, Lk, D] = [32, 8, 4096, 128];
    using cache = new KVCache({ maxLength: Lk, numKvHeads: Hkv, headDim: D });
    const kd = randoms(Hkv * Lk * D, 11), vd = randoms(Hkv * Lk * D, 12), qd = randoms(Hq * D, 13);
    using kp = Tensor.from(rows(kd, Hkv, Lk, D, 0, Lk - 1), [Hkv, Lk - 1, D]);
    using vp = Tensor.from(rows(vd, Hkv, Lk, D, 0, Lk - 1), [Hkv, Lk - 1, D]);
    cache.append(kp, vp);
    using k1 = Tensor.from(rows(kd, Hkv, Lk, D, Lk - 1, Lk), [Hkv, 1, D]);
    using v1 = Tensor.from(rows(vd, Hkv, Lk, D, Lk - 1, Lk), [Hkv, 1, D]);
    using q = Tensor.from(qd, [Hq, 1, D]);
    using out = Tensor.empty([Hq, 1, D]);
    const keysPtr = cache.keys.ptr;
    decodeStep(cache, q, k1, v1, { out });
    const ref = attention64(qd, kd, vd, 1, Hq, Hkv, 1, Lk, D, D, { causal: true });
    expectClose(out.data, ref.out, 'one step at Lk = 4096', 2e-5, 2e-4);
    // Repeating the step (roll back one row, decode it again) allocates no tensor and keeps the buffers.
    cache.truncate(Lk - 1);
    const blocks = memoryStats().liveBlocks;
    decodeStep(cache, q, k1, v1, { out });
    expect(memoryStats().liveBlocks).toBe(blocks);
    expect(cache.keys.ptr).toBe(keysPtr);
    expectClose(out.data, ref.out, 'repeated step', 2e-5, 2e-4);
  });

  it('rejects overflow and mismatched shapes with clear errors', () => {
    using cache = new KVCache({ maxLength: 4, numKvHeads: 2, headDim: 3 });
    using k = Tensor.zeros([2, 3, 3]);
    cache.append(k, k);
    expect(() => cache.append(k, k)).toThrow(/3 \+ 3 positions exceed maxLength 4/);
    using wrong = Tensor.zeros([1, 3, 3]);
    expect(() => cache.append(wrong, wrong)).toThrow(/k must be \[2, n, 3\], got \[1, 3, 3\]/);
    using q = Tensor.zeros([3, 1, 3]);
    expect(() => cache.attend(q)).toThrow(/query heads \(3\) must be a multiple/);
    using q5 = Tensor.zeros([2, 5, 3]);
    expect(() => cache.attend(q5)).toThrow(/5 query rows but only 3 cached/);
    expect(() => new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2, window: 5 })).toThrow(/window \(5\) must not exceed/);
    using win = new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2, window: 3 });
    using big = Tensor.zeros([1, 3, 2]);
    win.append(big, big);
    expect(() => win.append(big, big)).toThrow(/needs 2 \+ 3 rows, more than maxLength 4/);
    const before = memoryStats().liveBlocks;
    const c = new KVCache({ maxLength: 4, numKvHeads: 1, headDim: 2 });
    expect(memoryStats().liveBlocks).toBe(before + 2);
    c.dispose();
    expect(memoryStats().liveBlocks).toBe(before);
    expect(() => c.keys).toThrow(/after dispose/);
  });

  it('a rejected decodeStep appends nothing; every method throws the same error after dispose', () => {
    using cache = new KVCache({ maxLength: 4, numKvHeads: 2, headDim: 3 });
    using k = Tensor.from(randoms(2 * 2 * 3, 1), [2, 2, 3]);
    cache.append(k, k);
    const state = () => JSON.stringify([cache.length, cache.position, Array.from(cache.keys.data)]);
    const before = state(), blocks = memoryStats().liveBlocks;
    using k1 = Tensor.zeros([2, 1, 3]);
    using q4 = Tensor.zeros([2, 1, 4]);
    using q3 = Tensor.zeros([3, 1, 3]);
    using q2 = Tensor.zeros([2, 4, 3]);
    using q = Tensor.zeros([2, 1, 3]);
    using out = Tensor.zeros([2, 1, 5]);
    const tries: [() => unknown, RegExp][] = [
      [() => decodeStep(cache, q4, k1, k1), /decodeStep: q must be \[H_q, L_q, 3\] or \[L_q, 3\], got \[2, 1, 4\]/],
      [() => decodeStep(cache, q3, k1, k1), /decodeStep: query heads \(3\) must be a multiple/],
      [() => decodeStep(cache, q2, k1, k1), /decodeStep: 4 query rows but only 3 cached positions/],
      [() => decodeStep(cache, q, k1, k1, { scale: NaN }), /decodeStep: scale must be finite/],
      [() => decodeStep(cache, q, k1, k1, { out }), /decodeStep: out has shape \[2, 1, 5\], expected \[2, 1, 3\]/],
      [() => decodeStep(cache, q, k1, k1, { causal: 'yes' as never }), /decodeStep: causal must be a boolean/],
    ];
    for (const [f, re] of tries) {
      expect(f).toThrow(re);
      expect(state(), String(re)).toBe(before);
      expect(memoryStats().liveBlocks).toBe(blocks + 6);
    }
    decodeStep(cache, q, k1, k1).dispose(); // the same step, valid, appends
    expect(cache.length).toBe(3);
    const c = new KVCache({ maxLength: 4, numKvHeads: 2, headDim: 3 });
    c.dispose();
    for (const f of [() => c.truncate(0), () => c.clear(), () => c.append(k1, k1), () => c.attend(q), () => decodeStep(c, q, k1, k1), () => c.keys]) {
      expect(f).toThrow(/KVCache used after dispose\(\)/);
    }
  });
});
