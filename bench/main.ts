/**
 * Benchmarks: each case times the WASM kernel and the pure-TS baseline in the same
 * run (tinybench, warm-up first) and prints medians and their ratio.
 */
import { Bench } from 'tinybench';
import { init, Tensor, matmul } from '../dist/index.js';
import { matmulTs } from '../dist/baseline/index.js';

const info = await init();
console.log(`wasm-attention benchmarks — Node ${process.version}, ${info.simd ? 'SIMD128' : 'scalar'} build, 1 thread\n`);

const rows: Record<string, string | number>[] = [];
for (const n of [256, 512, 1024]) {
  const a = Tensor.from(rand(n * n), [n, n]);
  const b = Tensor.from(rand(n * n), [n, n]);
  const c = Tensor.empty([n, n]);
  const ad = a.toArray(), bd = b.toArray(), cd = new Float32Array(n * n);
  const bench = new Bench({ time: n >= 1024 ? 2000 : 500, warmupTime: 200, iterations: 5 });
  bench.add('wasm', () => { matmul(a, b, { out: c }); });
  bench.add('ts', () => { matmulTs(ad, bd, n, n, n, false, cd); });
  await bench.run();
  const [w, t] = bench.tasks.map((x) => median(x));
  const flops = 2 * n ** 3;
  rows.push({ case: `sgemm ${n}³`, 'wasm ms': w.toFixed(2), 'ts ms': t.toFixed(2),
    'wasm GFLOP/s': (flops / w / 1e6).toFixed(1), 'ts/wasm': (t / w).toFixed(1) });
  a.dispose(); b.dispose(); c.dispose();
}
console.table(rows);

function median(task: { result?: unknown }): number {
  const r = task.result as { latency?: { p50?: number } } | undefined;
  const m = r?.latency?.p50;
  if (m === undefined) throw new Error('no result');
  return m;
}

function rand(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = Math.random() * 2 - 1;
  return x;
}
