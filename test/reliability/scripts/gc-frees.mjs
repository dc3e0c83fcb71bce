// Run with --expose-gc: tensors that become unreachable without dispose() are
// freed by the FinalizationRegistry. Prints JSON.
import { init, Tensor, memoryStats } from '../../../dist/index.js';

await init();
const before = memoryStats().liveBlocks;
(function leak() {
  for (let i = 0; i < 200; i++) Tensor.zeros([1024]);
})();
const leaked = memoryStats().liveBlocks - before;
for (let i = 0; i < 50 && memoryStats().liveBlocks > before; i++) {
  globalThis.gc();
  await new Promise((r) => setTimeout(r, 10));
}
console.log(JSON.stringify({ leaked, remaining: memoryStats().liveBlocks - before }));
