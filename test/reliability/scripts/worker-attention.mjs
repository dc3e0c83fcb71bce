// A worker_threads worker: instantiates the module it is given and computes
// attention on the inputs it is sent; posts the output back.
import { parentPort, workerData } from 'node:worker_threads';
import { initSync, Tensor, attention } from '../../../dist/index.js';

initSync({ module: workerData.module });
parentPort.on('message', ({ q, k, v, shape, causal }) => {
  const [H, L, D] = shape;
  const results = [];
  for (let r = 0; r < 20; r++) {
    const qt = Tensor.from(q, [H, L, D]), kt = Tensor.from(k, [H, L, D]), vt = Tensor.from(v, [H, L, D]);
    const o = attention(qt, kt, vt, { causal });
    results.push(o.toArray());
    for (const t of [qt, kt, vt, o]) t.dispose();
  }
  parentPort.postMessage(results);
});
