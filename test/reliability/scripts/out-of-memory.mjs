// Fills WASM memory until it cannot grow, then asks for attention whose kernel
// scratch does not fit: the call must throw a RangeError (not trap), and the
// instance must keep working afterwards. Prints JSON.
import { init, Tensor, attention, memoryStats } from '../../../dist/index.js';

await init();
// K alone is 1 GiB; with 64 query rows (the tiled prefill kernel: a single row would
// take the decode kernel, which reads K in place and needs almost no scratch) the kernel
// packs a copy of it.
const D = 64, Lk = 1 << 22;
const k = Tensor.empty([Lk, D]);
const v = Tensor.empty([Lk, 1]);
const q = Tensor.zeros([64, D]);
const fillers = [];
let fillError; // set when the loop stops
for (;;) {
  try { fillers.push(Tensor.empty([64 << 20])); } catch (e) { fillError = e.message; break; } // 256 MiB each
}
fillers.pop().dispose(); // leaves about 256 MiB free: not enough for the packed keys
let oom = null;
try {
  attention(q, k, v).dispose();
} catch (e) {
  oom = { name: e.name, message: e.message };
}
for (const f of fillers) f.dispose();
k.dispose(); v.dispose(); q.dispose();
const a = Tensor.from([1, 0, 0, 1], [2, 2]);
const o = attention(a, a, a);
console.log(JSON.stringify({ fillError, oom, after: Array.from(o.data), memory: memoryStats().memoryBytes }));
