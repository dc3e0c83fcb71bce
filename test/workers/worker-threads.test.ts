// The library in a worker_threads worker, instantiated from the module compiled on
// this thread and posted to it: the worker's results must equal this thread's.
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor, attention, initInfo, matmul, softmax } from '../../ts/index.js';
import { attention64, matmul64, randoms, softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const script = fileURLToPath(new URL('./scripts/compute.mjs', import.meta.url));

describe('worker_threads worker with initSync({ module })', () => {
  const workers: Worker[] = [];
  afterAll(() => Promise.all(workers.map((w) => w.terminate())));

  it('computes what this thread computes, bit for bit', async () => {
    const [H, L, D] = [3, 37, 24];
    const a = randoms(L * D, 11), b = randoms(D * L, 12);
    const q = randoms(H * L * D, 13), k = randoms(H * L * D, 14), v = randoms(H * L * D, 15);
    const module = initInfo()!.module;
    const worker = new Worker(script, { workerData: { module } });
    workers.push(worker);
    const got = await new Promise<{ simd: boolean; sameModule: boolean; matmul: Float32Array;
      softmax: Float32Array; attention: Float32Array }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.postMessage({ a, b, q, k, v, H, L, D });
    });
    expect(got.simd).toBe(initInfo()!.simd);
    expect(got.sameModule).toBe(true);

    using ta = Tensor.from(a, [L, D]);
    using tb = Tensor.from(b, [D, L]);
    using mm = matmul(ta, tb);
    using sm = softmax(mm);
    using qt = Tensor.from(q, [H, L, D]);
    using kt = Tensor.from(k, [H, L, D]);
    using vt = Tensor.from(v, [H, L, D]);
    using at = attention(qt, kt, vt, { causal: true });
    // Same binary, same inputs, same code path: identical floats.
    expect(Array.from(got.matmul)).toEqual(Array.from(mm.data));
    expect(Array.from(got.softmax)).toEqual(Array.from(sm.data));
    expect(Array.from(got.attention)).toEqual(Array.from(at.data));
    // And both are right.
    const mm64 = matmul64(a, b, L, D, L);
    expectClose(got.matmul, mm64, 'worker matmul');
    const sm64 = new Float64Array(L * L);
    for (let i = 0; i < L; i++) sm64.set(softmaxRow64(mm.data.subarray(i * L, (i + 1) * L)), i * L);
    expectClose(got.softmax, sm64, 'worker softmax');
    expectClose(got.attention, attention64(q, k, v, 1, H, H, L, L, D, D, { causal: true }).out, 'worker attention');
  });
});
