// The published bundle in Chromium (the other specs but separate.spec.ts run the ts/ sources):
// the default entry with its embedded SIMD128 binary, the pool entry sharing its instance,
// and AttentionPool workers started from the bundle's own source (Blob URL) and from the
// classic worker script dist/pool-worker.js (workerUrl), checked against the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, attention, init, initInfo } from '../../dist/index.js';
import { AttentionPool } from '../../dist/pool/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

beforeAll(async () => {
  const info = await init();
  expect(info.build).toBe('simd');
});

it('dist/index.js computes attention with its embedded binary', () => {
  const [H, L, D] = [2, 21, 16];
  const q = randoms(H * L * D, 11, -2, 2), k = randoms(H * L * D, 12, -2, 2), v = randoms(H * L * D, 13);
  using qt = Tensor.from(q, [H, L, D]);
  using kt = Tensor.from(k, [H, L, D]);
  using vt = Tensor.from(v, [H, L, D]);
  using out = attention(qt, kt, vt, { causal: true });
  expectClose(out.data, attention64(q, k, v, 1, H, H, L, L, D, D, { causal: true }).out, 'out');
});

describe.each([
  { name: 'embedded source (Blob URL)', workerUrl: undefined },
  { name: 'workerUrl = dist/pool-worker.js', workerUrl: '/dist/pool-worker.js' },
])('dist/pool/index.js: AttentionPool ($name)', ({ workerUrl }) => {
  let pool: AttentionPool;
  beforeAll(async () => { pool = await AttentionPool.create({ workers: 2, workerUrl }); });
  afterAll(() => pool?.dispose());

  it('uses the module init() loaded and splits heads: causal GQA attention', async () => {
    expect(pool.threads).toBe(2);
    expect(pool.simd).toBe(initInfo()!.simd);
    const [B, Hq, Hkv, L, D] = [1, 6, 3, 50, 16];
    const q = randoms(B * Hq * L * D, 41, -2, 2), k = randoms(B * Hkv * L * D, 42, -2, 2), v = randoms(B * Hkv * L * D, 43);
    const r = await pool.attention(q, k, v, { batch: B, headsQ: Hq, headsKv: Hkv, lenQ: L, headDim: D },
      { causal: true, returnLse: true });
    const want = attention64(q, k, v, B, Hq, Hkv, L, L, D, D, { causal: true });
    expectClose(r.out, want.out, 'out');
    expectClose(r.lse!, want.lse, 'lse');
  });

  it('splits keys for one decoding step and merges by log-sum-exp', async () => {
    const [H, Lk, D] = [4, 1500, 32];
    const q = randoms(H * D, 51, -2, 2), k = randoms(H * Lk * D, 52, -2, 2), v = randoms(H * Lk * D, 53);
    const r = await pool.attention(q, k, v, { headsQ: H, lenQ: 1, lenK: Lk, headDim: D }, { split: 'keys', causal: true });
    expectClose(r.out, attention64(q, k, v, 1, H, H, 1, Lk, D, D).out, 'out');
  });
});
