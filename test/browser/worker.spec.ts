// The library in a Web Worker, instantiated from the module the page compiled and
// posted to it: its results must equal the page's.
import { beforeAll, expect, it } from 'vitest';
import { Tensor, attention, init, matmul, softmax, type InitInfo } from '../../ts/index.js';
import { attention64, randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

let info: InitInfo;
beforeAll(async () => { info = await init(); });

it('a Web Worker with initSync({ module }) computes what the page computes', async () => {
  const [H, L, D] = [3, 29, 16];
  const q = randoms(H * L * D, 31), k = randoms(H * L * D, 32), v = randoms(H * L * D, 33);
  const worker = new Worker(new URL('./worker-entry.ts', import.meta.url), { type: 'module' });
  try {
    const got = await new Promise<Record<string, unknown>>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(new Error(e.message));
      worker.postMessage({ module: info.module, q, k, v, H, L, D });
    });
    expect(got.error).toBeUndefined();
    expect(got.isWorker).toBe(true);
    expect(got.sameModule).toBe(true);
    expect(got.simd).toBe(info.simd);
    using qt = Tensor.from(q, [H, L, D]);
    using kt = Tensor.from(k, [H, L, D]);
    using vt = Tensor.from(v, [H, L, D]);
    using mm = matmul(qt, kt, { transposeB: true });
    using sm = softmax(mm);
    using at = attention(qt, kt, vt, { causal: true });
    expect(Array.from(got.matmul as Float32Array)).toEqual(Array.from(mm.data));
    expect(Array.from(got.softmax as Float32Array)).toEqual(Array.from(sm.data));
    expect(Array.from(got.attention as Float32Array)).toEqual(Array.from(at.data));
    expectClose(got.attention as Float32Array, attention64(q, k, v, 1, H, H, L, L, D, D, { causal: true }).out, 'worker attention');
  } finally {
    worker.terminate();
  }
});
