// A worker_threads worker: instantiates the module the main thread compiled and
// posted (initSync, no compilation here), runs matmul, softmax and attention on the
// inputs it is sent and posts the outputs back.
import { parentPort, workerData } from 'node:worker_threads';
import { initSync, initInfo, Tensor, matmul, softmax, attention } from '../../../dist/index.js';

const info = initSync({ module: workerData.module });
parentPort.on('message', ({ a, b, q, k, v, H, L, D }) => {
  const ta = Tensor.from(a, [L, D]), tb = Tensor.from(b, [D, L]);
  const qt = Tensor.from(q, [H, L, D]), kt = Tensor.from(k, [H, L, D]), vt = Tensor.from(v, [H, L, D]);
  const mm = matmul(ta, tb), sm = softmax(mm), at = attention(qt, kt, vt, { causal: true });
  parentPort.postMessage({
    simd: info.simd, sameModule: initInfo().module === workerData.module,
    matmul: mm.toArray(), softmax: sm.toArray(), attention: at.toArray(),
  });
  for (const t of [ta, tb, qt, kt, vt, mm, sm, at]) t.dispose();
});
