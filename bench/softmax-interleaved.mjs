// Softmax of one [rows, cols] float32 matrix: tfjs-wasm (XNNPACK, one thread) and one or
// more builds of this package, timed interleaved in one process (A, B, C, A, B, C, ...)
// in CPU time, so that the load of a shared machine hits every candidate alike. Prints
// medians and the ratio tfjs ÷ ours (above 1: ours is faster), as the median of the
// per-round ratios too.
//
//   node --no-liftoff bench/softmax-interleaved.mjs [distDir ...]   (default: ./dist)
//   env: ROWS, COLS (1024 × 1024), REPS (41 rounds), INNER (5 calls per round and candidate)
//
// `--no-liftoff` makes V8 compile the WebAssembly with its optimising tier up front,
// so that no candidate is timed on baseline code.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const require = createRequire(path.join(root, 'package.json'));
const tf = await import('@tensorflow/tfjs-core');
const wasm = await import('@tensorflow/tfjs-backend-wasm');
wasm.setWasmPaths(path.join(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist') + path.sep);
wasm.setThreadsCount(1);
if (!(await tf.setBackend('wasm'))) throw new Error('tf.setBackend("wasm") failed');
await tf.ready();

const rows = Number(process.env.ROWS ?? 1024), cols = Number(process.env.COLS ?? 1024);
const reps = Number(process.env.REPS ?? 41), inner = Number(process.env.INNER ?? 5);
const dists = process.argv.length > 2 ? process.argv.slice(2) : [path.join(root, 'dist')];

// The suite's softmax input: randoms(rows·cols, 13, −8, 8) of bench/data.ts.
const xd = new Float32Array(rows * cols);
for (let i = 0, s = 13; i < xd.length; i++) {
  s = (s + 0x6d2b79f5) >>> 0;
  let t = s;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  xd[i] = -8 + 16 * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
}
const tx = tf.tensor2d(xd, [rows, cols]);
const candidates = [{ name: 'tfjs-wasm', run: () => tf.tidy(() => tf.softmax(tx)).dispose() }];
for (const d of dists) {
  const lib = await import(pathToFileURL(path.resolve(d, 'index.js')).href);
  await lib.init({ simd: true });
  const x = lib.Tensor.from(xd, [rows, cols]), out = lib.Tensor.empty([rows, cols]);
  candidates.push({ name: d, run: () => lib.softmax(x, { out }) });
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
for (let w = 0; w < 40; w++) candidates.forEach((c) => c.run());
const times = candidates.map(() => []), walls = candidates.map(() => []);
for (let r = 0; r < reps; r++) {
  candidates.forEach((c, i) => {
    const t0 = cpuMs(), w0 = performance.now();
    for (let k = 0; k < inner; k++) c.run();
    walls[i].push((performance.now() - w0) / inner);
    times[i].push((cpuMs() - t0) / inner);
  });
}
console.log(`softmax ${rows} × ${cols}, ${reps} rounds × ${inner} calls per candidate, CPU time, 1 thread`);
// CPU time counts every thread of the process; wall time is printed next to it as a
// check that no candidate works on other threads.
const ref = median(times[0]), wref = median(walls[0]);
candidates.forEach((c, i) => {
  const m = median(times[i]), w = median(walls[i]);
  const perRound = median(times[i].map((t, r) => times[0][r] / t));
  console.log(`  ${c.name.padEnd(28)} ${m.toFixed(3)} ms CPU, ${w.toFixed(3)} ms wall` +
    (i ? `  tfjs ÷ ours ${(ref / m).toFixed(2)}× CPU (per-round median ${perRound.toFixed(2)}×), ${(wref / w).toFixed(2)}× wall` : ''));
});
