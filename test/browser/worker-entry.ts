// A module Web Worker: instantiates the module posted by the page (initSync, no
// compilation) and returns matmul, softmax and attention results.
import { initSync, initInfo, Tensor, matmul, softmax, attention } from '../../ts/index.js';

interface Request { module: WebAssembly.Module; q: Float32Array; k: Float32Array; v: Float32Array; H: number; L: number; D: number }

self.onmessage = (e: MessageEvent<Request>) => {
  const { module, q, k, v, H, L, D } = e.data;
  try {
    const info = initSync({ module });
    const qt = Tensor.from(q, [H, L, D]), kt = Tensor.from(k, [H, L, D]), vt = Tensor.from(v, [H, L, D]);
    const mm = matmul(qt, kt, { transposeB: true }), sm = softmax(mm), at = attention(qt, kt, vt, { causal: true });
    self.postMessage({
      simd: info.simd, sameModule: initInfo()!.module === module, isWorker: typeof document === 'undefined',
      matmul: mm.toArray(), softmax: sm.toArray(), attention: at.toArray(),
    });
    for (const t of [qt, kt, vt, mm, sm, at]) t.dispose();
  } catch (err) {
    self.postMessage({ error: (err as Error).message });
  }
};
