// AttentionPool in Chromium: Web Workers started from the source embedded in the
// bundle (Blob URL) or from the bundle's pool/worker.js (workerUrl), checked against
// the float64 reference for a head split and a decoding key split.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { init } from '../../dist/browser/index.js';
import { AttentionPool } from '../../dist/browser/pool/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

beforeAll(async () => { await init(); });

describe.each([
  { name: 'Blob URL worker', workerUrl: undefined },
  { name: 'workerUrl = dist/browser/pool/worker.js', workerUrl: '/dist/browser/pool/worker.js' },
])('AttentionPool ($name)', ({ workerUrl }) => {
  let pool: AttentionPool;
  beforeAll(async () => { pool = await AttentionPool.create({ workers: 2, workerUrl }); });
  afterAll(() => pool?.dispose());

  it('has two Web Workers and, without cross-origin isolation, transfers slices', () => {
    expect(pool.threads).toBe(2);
    expect(pool.simd).toBe(true);
    expect(pool.shared).toBe(crossOriginIsolated);
  });

  it('splits heads: causal GQA attention', async () => {
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
