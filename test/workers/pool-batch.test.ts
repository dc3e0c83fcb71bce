// AttentionPool over a ragged batch: `seqLens` with the head and key splits against the
// float64 reference per sequence, and `attend(cache, q)` against the main thread's
// `KVCache.attend` for every storage dtype (window included), on both data paths.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KVCache, Tensor, initInfo, type CacheDType } from '../../ts/index.js';
import { AttentionPool } from '../../ts/pool/index.js';
import { attention64, randoms, type Attention64Options } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { rows } from '../toolkit/helpers/kv-feed.js';

const DTYPES: CacheDType[] = ['float32', 'float16', 'bfloat16', 'int8'];

/** Float64 attention of each sequence over its own first `lens[b]` keys of `[B, Hkv, Lk, D]` buffers. */
function raggedReference(q: Float32Array, k: Float32Array, v: Float32Array, lens: number[], Hq: number, Hkv: number,
  Lq: number, Lk: number, D: number, Dv: number, o: Attention64Options) {
  const B = lens.length;
  const out = new Float64Array(B * Hq * Lq * Dv), lse = new Float64Array(B * Hq * Lq);
  lens.forEach((L, b) => {
    const kb = rows(k.subarray(b * Hkv * Lk * D, (b + 1) * Hkv * Lk * D), Hkv, Lk, D, 0, L);
    const vb = rows(v.subarray(b * Hkv * Lk * Dv, (b + 1) * Hkv * Lk * Dv), Hkv, Lk, Dv, 0, L);
    const r = attention64(q.subarray(b * Hq * Lq * D, (b + 1) * Hq * Lq * D), kb, vb, 1, Hq, Hkv, Lq, L, D, Dv, o);
    out.set(r.out, b * Hq * Lq * Dv);
    lse.set(r.lse, b * Hq * Lq);
  });
  return { out, lse };
}

/** A batched cache holding `lengths` random rows per sequence, and its queries `[B, Hq, Lq, D]`. */
function filledCache(dtype: CacheDType, lengths: number[], Hq: number, Hkv: number, D: number, Lq: number,
  window?: number): { cache: KVCache; q: Float32Array } {
  const B = lengths.length;
  const cache = new KVCache({ batch: B, maxLength: 320, numKvHeads: Hkv, headDim: D, dtype, window });
  lengths.forEach((L, b) => {
    // Appended in two parts, so that a windowed cache also shifts.
    for (const [from, to] of [[0, Math.floor(L / 2)], [Math.floor(L / 2), L]] as const) {
      if (to === from) continue;
      using k = Tensor.from(randoms(Hkv * (to - from) * D, 50 + b * 7 + from, -2, 2), [Hkv, to - from, D]);
      using v = Tensor.from(randoms(Hkv * (to - from) * D, 51 + b * 7 + from), [Hkv, to - from, D]);
      cache.append(k, v, { sequence: b });
    }
  });
  return { cache, q: randoms(B * Hq * Lq * D, 77, -2, 2) };
}

describe.each([
  { name: 'shared memory', shared: true },
  { name: 'transferred slices', shared: false },
])('AttentionPool ragged batch ($name)', ({ shared }) => {
  let pool: AttentionPool;
  beforeAll(async () => {
    pool = await AttentionPool.create({ workers: 3, module: initInfo()!.module, shared });
  });
  afterAll(() => pool?.dispose());

  it('seqLens: key split (decode) and head split (causal chunk) equal float64 attention per sequence', async () => {
    const [Hq, Hkv, Lk, D] = [4, 2, 300, 16];
    const lens = [5, 17, 300, 0];
    const B = lens.length;
    const k = randoms(B * Hkv * Lk * D, 1, -2, 2), v = randoms(B * Hkv * Lk * D, 2);
    // Rows past each sequence's length hold junk that must not be read.
    const q1 = randoms(B * Hq * D, 3, -2, 2);
    const shape = { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: 1, lenK: Lk, headDim: D };
    const sinks = [0.5, -1, 2, 0];
    const keys = await pool.attention(q1, k, v, shape, { seqLens: lens, split: 'keys', returnLse: true, sinks });
    const heads = await pool.attention(q1, k, v, shape, { seqLens: lens, split: 'heads', returnLse: true, sinks });
    const want = raggedReference(q1, k, v, lens, Hq, Hkv, 1, Lk, D, D, { sinks });
    expectClose(keys.out, want.out, 'key split out');
    expectClose(keys.lse!, want.lse, 'key split lse');
    expectClose(heads.out, want.out, 'head split out');
    expectClose(heads.lse!, want.lse, 'head split lse');
    // A causal chunk of 3 query rows with a window (positional: split by heads).
    const q3 = randoms(B * Hq * 3 * D, 4, -2, 2);
    const lens3 = [5, 17, 300, 3];
    const r = await pool.attention(q3, k, v, { ...shape, lenQ: 3 }, { seqLens: lens3, causal: true, window: [7, 0] });
    expectClose(r.out, raggedReference(q3, k, v, lens3, Hq, Hkv, 3, Lk, D, D, { causal: true, window: [7, 0] }).out,
      'causal windowed chunk');
  });

  for (const dtype of DTYPES) {
    it(`${dtype}: attend(cache, q) equals KVCache.attend per sequence (lengths 5, 17, 300; D = 16 and 64)`, async () => {
      for (const D of [16, 64]) {
        const [Hq, Hkv] = [4, 2];
        const { cache, q } = filledCache(dtype, [5, 17, 300], Hq, Hkv, D, 1);
        try {
          using qt = Tensor.from(q, [3, Hq, 1, D]);
          using want = cache.attend(qt);
          // int8: the cache's kernel scores integer dot products of the codes with queries
          // rounded to int16 (relative 1.5e-5 of a row's largest element); the pool gets
          // the rows dequantised to float32, so the two differ by that rounding.
          const atol = dtype === 'int8' ? 5e-5 : 1e-5;
          for (const split of ['keys', 'heads'] as const) {
            const r = await pool.attend(cache, q, { split });
            expectClose(r.out, want.data, `${dtype} D=${D} ${split}`, atol, 0);
          }
        } finally {
          cache.dispose();
        }
      }
    });
  }

  it('a windowed cache: one query row (last W rows, key split) and a chunk of 2 (window passed on)', async () => {
    const [Hq, Hkv, D, W] = [4, 2, 16, 40];
    const { cache, q } = filledCache('float16', [5, 100, 300], Hq, Hkv, D, 1, W);
    const q2 = randoms(3 * Hq * 2 * D, 88, -2, 2);
    try {
      using qt = Tensor.from(q, [3, Hq, 1, D]);
      using want = cache.attend(qt);
      expectClose((await pool.attend(cache, q, { split: 'keys' })).out, want.data, 'window, Lq = 1', 1e-5, 0);
      using qt2 = Tensor.from(q2, [3, Hq, 2, D]);
      using want2 = cache.attend(qt2, { softcap: 4 });
      expectClose((await pool.attend(cache, q2, { lenQ: 2, softcap: 4 })).out, want2.data, 'window, Lq = 2', 1e-5, 0);
    } finally {
      cache.dispose();
    }
  });

  it('a batch-1 cache and an unragged batch', async () => {
    for (const lengths of [[64], [33, 33]]) {
      const { cache, q } = filledCache('float32', lengths, 4, 4, 8, 2);
      try {
        using qt = Tensor.from(q, [lengths.length, 4, 2, 8]);
        using want = cache.attend(qt);
        const r = await pool.attend(cache, q, { lenQ: 2, returnLse: true });
        expectClose(r.out, want.data, `lengths ${lengths.join(', ')}`, 1e-5, 0);
        expect(r.lse!.length).toBe(lengths.length * 4 * 2);
      } finally {
        cache.dispose();
      }
    }
  });
});

describe('AttentionPool ragged batch errors', () => {
  it('rejects bad seqLens, caches and queries with clear messages', async () => {
    const pool = await AttentionPool.create({ workers: 2, module: initInfo()!.module });
    const { cache, q } = filledCache('int8', [3, 0], 2, 1, 4, 1);
    try {
      const shape = { batch: 2, headsQ: 2, headsKv: 1, lenQ: 1, lenK: 5, headDim: 4 };
      const k = randoms(2 * 5 * 4, 1), q2 = randoms(2 * 2 * 4, 2);
      await expect(pool.attention(q2, k, k, shape, { seqLens: [1] })).rejects.toThrow(/seqLens needs 2 values \(one per sequence\), got 1/);
      await expect(pool.attention(q2, k, k, shape, { seqLens: [1, 6] })).rejects.toThrow(/seqLens\[1\] must be an integer in \[0, 5\], got 6/);
      await expect(pool.attention(q2, k, k, shape, { seqLens: [1.5, 2] })).rejects.toThrow(/seqLens\[0\] must be an integer/);
      await expect(pool.attend({} as KVCache, q)).rejects.toThrow(/AttentionPool.attend: cache must be a KVCache/);
      await expect(pool.attend(cache, q.subarray(1))).rejects.toThrow(/q has 15 elements, not \[2, Hq, 1, 4\]/);
      await expect(pool.attend(cache, q, { lenQ: 0 })).rejects.toThrow(/lenQ must be an integer >= 1/);
      await expect(pool.attend(cache, q)).rejects.toThrow(/sequence 1 has 0 cached positions, fewer than 1 query rows/);
      cache.dispose();
      await expect(pool.attend(cache, q)).rejects.toThrow(/after dispose/);
    } finally {
      cache.dispose();
      pool.dispose();
    }
    await expect(pool.attend(cache, q)).rejects.toThrow(/AttentionPool was used after dispose/);
  });
});
