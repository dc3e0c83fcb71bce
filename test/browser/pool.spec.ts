// AttentionPool in Chromium: Web Workers started from the embedded worker source (Blob URL),
// checked against the float64 reference for a head split and a decoding key split, and
// decoding a ragged batched KVCache equal to the main thread's KVCache.attend. The published
// classic worker script (workerUrl = dist/pool-worker.js) is tested in package.spec.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// init() comes from the separate-file entry, the pool from its own: they share one
// library instance, so the pool gets the module that init() loaded.
import { KVCache, Tensor, init, initInfo } from '../../ts/separate.js';
import { AttentionPool } from '../../ts/pool/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { poolSplitChecks } from './pool-checks.js';

beforeAll(async () => { await init(); });

it('the pool entry shares the instance that init() of the separate entry created', async () => {
  const { init: defaultInit } = await import('../../ts/index.js');
  expect((await defaultInit()).module).toBe(initInfo()!.module);
});

it('the test page is cross-origin isolated (SharedArrayBuffer available)', () => {
  expect(crossOriginIsolated).toBe(true);
});

describe.each([
  { name: 'Blob URL worker, SharedArrayBuffer', shared: undefined },
  { name: 'Blob URL worker, transferred slices', shared: false },
])('AttentionPool ($name)', ({ shared }) => {
  let pool: AttentionPool;
  beforeAll(async () => { pool = await AttentionPool.create({ workers: 2, shared }); });
  afterAll(() => pool?.dispose());

  it('has two Web Workers on the expected data path', () => {
    expect(pool.threads).toBe(2);
    expect(pool.simd).toBe(true);
    expect(pool.shared).toBe(shared ?? true);
  });

  poolSplitChecks(() => pool);

  it('decodes a ragged batched int8 KVCache by keys, as KVCache.attend does', async () => {
    const [B, Hq, Hkv, D] = [3, 4, 2, 16];
    const cache = new KVCache({ batch: B, maxLength: 300, numKvHeads: Hkv, headDim: D, dtype: 'int8' });
    const qt = Tensor.from(randoms(B * Hq * D, 80, -2, 2), [B, Hq, 1, D]);
    try {
      [5, 17, 300].forEach((L, b) => {
        const k = Tensor.from(randoms(Hkv * L * D, 60 + b, -2, 2), [Hkv, L, D]);
        const v = Tensor.from(randoms(Hkv * L * D, 70 + b), [Hkv, L, D]);
        cache.append(k, v, { sequence: b });
        k.dispose();
        v.dispose();
      });
      const want = cache.attend(qt);
      const r = await pool.attend(cache, qt.toArray(), { split: 'keys' });
      // The cache's kernel rounds queries and weights to int16 for its integer dot products;
      // the pool gets the rows dequantised to float32 (docs/runtimes.md: about 1e-5 apart).
      expectClose(r.out, want.data, 'out', 5e-5, 0);
      want.dispose();
    } finally {
      qt.dispose();
      cache.dispose();
    }
  });
});
