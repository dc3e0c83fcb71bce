// Times AttentionPool with 2 workers against 1 worker (and against one call on this
// thread) on causal attention with H = 8 heads, N = 2048 tokens, D = 64, and prints
// the ratio. Run after a build:  node examples/workers/pool-speedup.mjs [--runs=7]
//
// Both pools exist at once and their calls alternate (1 worker, 2 workers, 1, 2, …)
// after a warm-up call each, so load from other processes hits both alike; the
// speed-up is the median of the per-pair ratios. Both pools go through the same path
// (copy in, compute, copy out), so the ratio isolates the parallel part; on a machine
// with fewer free cores than workers it cannot reach 2.
import { availableParallelism } from 'node:os';
import { init, Tensor, attention } from '../../dist/index.js';
import { AttentionPool } from '../../dist/pool/index.js';

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const runs = Number(arg('runs', 7));
const shared = arg('shared', 'true') !== 'false'; // --shared=false: transferred slices instead
const [H, N, D] = [8, 2048, 64];
const shape = { headsQ: H, lenQ: N, headDim: D };
const rand = (n, seed) => {
  let s = seed;
  return Float32Array.from({ length: n }, () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32) * 2 - 1);
};
const q = rand(H * N * D, 1), k = rand(H * N * D, 2), v = rand(H * N * D, 3);

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
async function time(fn) {
  await fn(); // warm-up
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    ms.push(performance.now() - t0);
  }
  return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
}

const { module, simd } = await init();
const qt = Tensor.from(q, [H, N, D]), kt = Tensor.from(k, [H, N, D]), vt = Tensor.from(v, [H, N, D]);
const here = await time(() => attention(qt, kt, vt, { causal: true }).dispose());

const pools = { 1: await AttentionPool.create({ workers: 1, module, shared }),
  2: await AttentionPool.create({ workers: 2, module, shared }) };
const call = (n) => pools[n].attention(q, k, v, shape, { causal: true });
await call(1); await call(2); // warm-up
const ms = { 1: [], 2: [] };
const ratios = [];
for (let i = 0; i < runs; i++) {
  for (const n of [1, 2]) {
    const t0 = performance.now();
    await call(n);
    ms[n].push(performance.now() - t0);
  }
  ratios.push(ms[1][i] / ms[2][i]);
}
pools[1].dispose(); pools[2].dispose();
const stats = (xs) => ({ median: median(xs), min: Math.min(...xs), max: Math.max(...xs) });
const results = { 1: stats(ms[1]), 2: stats(ms[2]) };
const fmt = (t) => `${t.median.toFixed(1)} ms (min ${t.min.toFixed(1)}, max ${t.max.toFixed(1)})`;
const ratio = median(ratios);
console.log(`causal attention H=${H} N=${N} D=${D}, ${simd ? 'SIMD128' : 'scalar'} build, ` +
  `${availableParallelism()} logical CPUs, ${shared ? 'SharedArrayBuffer' : 'transferred slices'}, median of ${runs} runs`);
console.log(`  this thread, no pool : ${fmt(here)}`);
console.log(`  pool, 1 worker       : ${fmt(results[1])}`);
console.log(`  pool, 2 workers      : ${fmt(results[2])}`);
console.log(`  speed-up 2 vs 1 worker: ${ratio.toFixed(2)}x (median of per-pair ratios; ` +
  `ratio of medians ${(results[1].median / results[2].median).toFixed(2)}x, of minima ${(results[1].min / results[2].min).toFixed(2)}x)`);
for (const t of [qt, kt, vt]) t.dispose();
