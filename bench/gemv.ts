/**
 * m = 1 products at SmolLM-135M shapes on the matrix–vector kernels (`wa_linear`) per
 * weight format, against the blocked GEMM (`wa_gemm` with transB, what `matmul` ran
 * for one row before) on the same weights: GB/s of weight bytes streamed, medians.
 *
 * Both run in a private instance of the active binary (no JS wrapper in the timing);
 * rounds interleave the two paths, each round long enough (≥ 40 ms) to time well.
 * Run after a build: `npx tsx bench/gemv.ts` (`--quick` for fewer rounds, `--only=lm_head`
 * for the shapes whose name contains a word).
 */
import { init, initInfo } from '../dist/index.js';
import { measureBandwidth } from './bandwidth.js';
import type { RawExports } from '../ts/raw-exports.js';

type Raw = RawExports;

const SHAPES: [number, number, string][] = [[576, 1536, 'MLP up/gate'], [1536, 576, 'MLP down'], [576, 49152, 'lm_head']];
const FORMATS = [
  { name: 'float32', code: 0, bytes: (n: number, k: number) => n * k * 4 },
  { name: 'float16', code: 1, bytes: (n: number, k: number) => n * k * 2 },
  // As models load float16: known finite at load (`wa_f16_all_finite`), so no tile checks for inf/NaN.
  { name: 'float16, finite', code: 1 | 0x100, bytes: (n: number, k: number) => n * k * 2 },
  { name: 'bfloat16', code: 2, bytes: (n: number, k: number) => n * k * 2 },
  { name: 'int8 (q8_0)', code: 4, bytes: (n: number, k: number) => n * Math.ceil(k / 32) * 34 },
  { name: 'int4 (q4_0)', code: 5, bytes: (n: number, k: number) => n * Math.ceil(k / 32) * 18 },
];
const ROUNDS = process.argv.includes('--quick') ? 3 : 9;
const ONLY = process.argv.find((a) => a.startsWith('--only='))?.slice(7);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Milliseconds per call of `f`, one round: as many calls as fit in ~40 ms (at least 2). */
function round(f: () => void): number {
  f();
  let reps = 0;
  const t0 = performance.now();
  let t = t0;
  while (reps < 2 || t - t0 < 40) {
    f();
    reps++;
    t = performance.now();
  }
  return (t - t0) / reps;
}

await init();
const w = new WebAssembly.Instance(initInfo()!.module, { wbg: {} }).exports as unknown as Raw;
const ok = (s: number, what: string) => { if (s !== 0) throw new Error(`${what}: status ${s}`); };
const bw = measureBandwidth();
console.log(`# gemv bench, m = 1, ${initInfo()!.build} build; read bandwidth ${bw ? bw.gbps.toFixed(1) : '?'} GB/s (best), ` +
  `${ROUNDS} interleaved rounds, medians`);
console.log('| shape [n, k] | format | weight MB | gemv ms | gemv GB/s | GEMM ms | GEMM GB/s | speed-up | vs f32 gemv |');
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const [k, n, what] of SHAPES) {
  if (ONLY !== undefined && !what.includes(ONLY)) continue;
  const src = w.wa_alloc(n * k * 4);
  let seed = 1;
  const f32 = new Float32Array(w.memory.buffer, src, n * k);
  for (let i = 0; i < n * k; i++) { seed = (seed * 1103515245 + 12345) >>> 0; f32[i] = (seed / 2 ** 32 - 0.5) * 0.1; }
  const x = w.wa_alloc(k * 4), y = w.wa_alloc(n * 4);
  new Float32Array(w.memory.buffer, x, k).forEach((_, i, a) => { a[i] = Math.sin(i); });
  let f32ms = 0;
  for (const fmt of FORMATS) {
    const bytes = fmt.bytes(n, k);
    const wp = fmt.code === 0 ? src : w.wa_alloc(bytes);
    const dtype = fmt.code & 0xff;
    if (dtype === 1 || dtype === 2) ok(w.wa_convert(src, 0, wp, dtype, n * k), 'convert');
    if (dtype >= 4) ok(w.wa_quantize(src, 0, wp, dtype, n, k), 'quantize');
    const gemv = () => ok(w.wa_linear(1, k, n, x, k, wp, fmt.code, 0, y, n), 'linear');
    const gemm = fmt.code <= 2 ? () => ok(w.wa_gemm(1, k, n, 1, x, k, wp, k, 1, fmt.code, 0, y, n), 'gemm') : null;
    const a: number[] = [], b: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      a.push(round(gemv));
      if (gemm) b.push(round(gemm));
    }
    const ms = median(a), gms = gemm ? median(b) : NaN;
    if (fmt.code === 0) f32ms = ms;
    const gbps = (t: number) => (bytes / 1e6 / t).toFixed(1);
    console.log(`| ${what} [${n}, ${k}] | ${fmt.name} | ${(bytes / 1e6).toFixed(2)} | ${ms.toFixed(3)} | ${gbps(ms)} | ` +
      `${gemm ? gms.toFixed(3) : '—'} | ${gemm ? gbps(gms) : '—'} | ${gemm ? (gms / ms).toFixed(1) + '×' : '—'} | ` +
      `${(f32ms / ms).toFixed(2)}× |`);
    if (wp !== src) w.wa_free(wp);
  }
  w.wa_free(src); w.wa_free(x); w.wa_free(y);
}
