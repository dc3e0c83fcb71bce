// The published bundle in Chromium (the other specs but separate.spec.ts run the ts/ sources):
// the default entry with its embedded SIMD128 binary, the pool entry sharing its instance,
// and AttentionPool workers started from the bundle's own source (Blob URL) and from the
// classic worker script dist/pool-worker.js (workerUrl), checked against the float64 reference.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Tensor, attention, init, initInfo } from '../../dist/index.js';
import { AttentionPool } from '../../dist/pool/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { poolSplitChecks } from './pool-checks.js';

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

  it('uses the module init() loaded', () => {
    expect(pool.threads).toBe(2);
    expect(pool.simd).toBe(initInfo()!.simd);
  });

  poolSplitChecks(() => pool);
});
