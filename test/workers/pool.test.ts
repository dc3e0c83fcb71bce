// AttentionPool: attention split over worker threads, checked against the float64
// reference for head splits (including grouped heads cut between workers), key
// splits merged by log-sum-exp (decoding), both data paths, and bad input.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initInfo } from '../../ts/index.js';
import { AttentionPool, type PoolAttentionOptions, type PoolShape } from '../../ts/pool/index.js';
import { attention64, randoms, type Attention64Options } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

interface Case { shape: Required<PoolShape>; q: Float32Array; k: Float32Array; v: Float32Array }

function makeCase(s: PoolShape, seed: number): Case {
  const shape: Required<PoolShape> = {
    batch: s.batch ?? 1, headsQ: s.headsQ, headsKv: s.headsKv ?? s.headsQ, lenQ: s.lenQ,
    lenK: s.lenK ?? s.lenQ, headDim: s.headDim, valueDim: s.valueDim ?? s.headDim,
  };
  const { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: Lq, lenK: Lk, headDim: D, valueDim: Dv } = shape;
  return {
    shape, q: randoms(B * Hq * Lq * D, seed, -2, 2), k: randoms(B * Hkv * Lk * D, seed + 1, -2, 2),
    v: randoms(B * Hkv * Lk * Dv, seed + 2),
  };
}

function reference(c: Case, o: Attention64Options) {
  const { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: Lq, lenK: Lk, headDim: D, valueDim: Dv } = c.shape;
  return attention64(c.q, c.k, c.v, B, Hq, Hkv, Lq, Lk, D, Dv, o);
}

describe.each([
  { name: 'shared memory', shared: true },
  { name: 'transferred slices', shared: false },
])('AttentionPool ($name)', ({ shared }) => {
  let pool3: AttentionPool;
  beforeAll(async () => {
    pool3 = await AttentionPool.create({ workers: 3, module: initInfo()!.module, shared });
  });
  afterAll(() => pool3?.dispose());

  it('reports its threads, build and data path', () => {
    expect(pool3.threads).toBe(3);
    expect(pool3.simd).toBe(initInfo()!.simd);
    expect(pool3.shared).toBe(shared);
  });

  it('splits heads: causal multi-head attention with lse', async () => {
    const c = makeCase({ batch: 2, headsQ: 4, lenQ: 45, headDim: 16 }, 100);
    const r = await pool3.attention(c.q, c.k, c.v, c.shape, { causal: true, returnLse: true, split: 'heads' });
    const want = reference(c, { causal: true });
    expectClose(r.out, want.out, 'out');
    expectClose(r.lse!, want.lse, 'lse');
  });

  it('splits grouped-query heads where a group is cut between workers', async () => {
    // 2·6 = 12 query heads over 3 workers → 4 each; groups of 3 are cut at heads 4 and 8.
    const c = makeCase({ batch: 2, headsQ: 6, headsKv: 2, lenQ: 20, lenK: 33, headDim: 8, valueDim: 12 }, 200);
    const opts: PoolAttentionOptions = { causal: true, softcap: 3, alibiSlopes: [0.5, 0.25, 0.125, 0.1, 0.05, 0.01],
      sinks: [0, 1, -1, 0.5, 2, -2] };
    const r = await pool3.attention(c.q, c.k, c.v, c.shape, opts);
    const want = reference(c, { causal: true, softcap: 3, alibi: opts.alibiSlopes, sinks: opts.sinks });
    expectClose(r.out, want.out, 'out');
    expect(r.lse).toBeUndefined();
  });

  it('splits keys for decoding and merges by log-sum-exp (with sinks and a GQA group)', async () => {
    const c = makeCase({ batch: 1, headsQ: 4, headsKv: 2, lenQ: 1, lenK: 2000, headDim: 32 }, 300);
    const sinks = [0.5, -1, 3, 0];
    const r = await pool3.attention(c.q, c.k, c.v, c.shape, { sinks, softcap: 5, returnLse: true, split: 'keys' });
    const want = reference(c, { sinks, softcap: 5 });
    expectClose(r.out, want.out, 'out');
    expectClose(r.lse!, want.lse, 'lse');
    // The automatic choice for one query row and long keys is the key split, with the same result.
    const auto = await pool3.attention(c.q, c.k, c.v, c.shape, { sinks, softcap: 5, causal: true });
    expectClose(auto.out, want.out, 'auto out');
  });

  it('key split with fewer keys than workers (an empty chunk), sinks on the first non-empty one', async () => {
    const c = makeCase({ batch: 2, headsQ: 2, lenQ: 1, lenK: 2, headDim: 4 }, 400);
    const r = await pool3.attention(c.q, c.k, c.v, c.shape, { split: 'keys', returnLse: true, sinks: [1, -0.5] });
    const want = reference(c, { sinks: [1, -0.5] });
    expectClose(r.out, want.out, 'out');
    expectClose(r.lse!, want.lse, 'lse');
  });

  it('Lk = 0 gives zeros and lse = -Infinity, as attention()', async () => {
    const c = makeCase({ headsQ: 2, lenQ: 3, lenK: 0, headDim: 4 }, 500);
    const r = await pool3.attention(c.q, c.k, c.v, c.shape, { returnLse: true });
    expect(Array.from(r.out)).toEqual(new Array(2 * 3 * 4).fill(0));
    expect(Array.from(r.lse!)).toEqual(new Array(6).fill(-Infinity));
  });

  it('runs concurrent calls and leaves the inputs untouched', async () => {
    const cases = [0, 1, 2].map((i) => makeCase({ headsQ: 5, lenQ: 17, headDim: 8 }, 600 + 10 * i));
    const copies = cases.map((c) => c.q.slice());
    const results = await Promise.all(cases.map((c) => pool3.attention(c.q, c.k, c.v, c.shape, { window: [3, 2] })));
    results.forEach((r, i) => {
      expectClose(r.out, reference(cases[i]!, { window: [3, 2] }).out, `call ${i}`);
      expect(Array.from(cases[i]!.q)).toEqual(Array.from(copies[i]!));
    });
  });
});

describe('AttentionPool errors', () => {
  it('rejects bad input with clear messages', async () => {
    const pool = await AttentionPool.create({ workers: 2, module: initInfo()!.module });
    try {
      const c = makeCase({ headsQ: 2, lenQ: 4, headDim: 4 }, 700);
      await expect(pool.attention(c.q.subarray(1), c.k, c.v, c.shape)).rejects.toThrow(/q has 31 elements, the shape needs 32/);
      await expect(pool.attention(Array.from(c.q) as unknown as Float32Array, c.k, c.v, c.shape))
        .rejects.toThrow(TypeError);
      await expect(pool.attention(c.q, c.k, c.v, { ...c.shape, headsKv: 3 })).rejects.toThrow(/multiple of headsKv/);
      await expect(pool.attention(c.q, c.k, c.v, c.shape, { mask: {} } as PoolAttentionOptions))
        .rejects.toThrow(/does not take masks/);
      await expect(pool.attention(c.q, c.k, c.v, c.shape, { split: 'keys', causal: true }))
        .rejects.toThrow(/split: 'keys'/);
      await expect(pool.attention(c.q, c.k, c.v, c.shape, { sinks: [1] })).rejects.toThrow(/sinks needs 2 values/);
      await expect(AttentionPool.create({ workers: 0 })).rejects.toThrow(RangeError);
    } finally {
      pool.dispose();
    }
    const c = makeCase({ headsQ: 1, lenQ: 1, headDim: 4 }, 800);
    await expect(pool.attention(c.q, c.k, c.v, c.shape)).rejects.toThrow(/used after dispose/);
  });
});
