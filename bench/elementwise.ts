/**
 * Element-wise work: the JavaScript loops the toolkit used before (copied below as the
 * baseline) against the WASM kernels, through the public API (`npx tsx bench/elementwise.ts
 * [simd|scalar]` after `bash scripts/build.sh`). One thread; rounds interleave baseline
 * and kernel; each figure is the median of the rounds, in ns per element.
 *
 * Sizes: GELU (erf), tanh-GELU and SiLU over 32×128×1536 floats (a BERT-base-sized
 * batch's FFN activations); LayerNorm and RMSNorm over 4096×384; RoPE (rotate-half) over
 * 4096 rows × 6 heads × 64.
 */
import { init, Tensor, applyActivation, applyRope, layerNorm, rmsNorm } from '../dist/index.js';
import { randoms } from '../test/helpers/reference.js';

const build = (process.argv[2] ?? 'simd') as 'simd' | 'scalar';
const info = await init({ build });
const ROUNDS = Number(process.env.ROUNDS ?? 7);

// ---- Baseline: the previous JavaScript implementations (ts/toolkit/erf.ts,
// activations.ts, elementwise.ts applyActivation, norm.ts normalise, rope.ts rotateRows).

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);
function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax >= 6) return x > 0 ? 1 : -1;
  const x2 = 2 * ax * ax;
  let term = ax, sum = ax;
  for (let n = 1; n < 200; n++) {
    term *= x2 / (2 * n + 1);
    const next = sum + term;
    if (next === sum) break;
    sum = next;
  }
  const r = TWO_OVER_SQRT_PI * Math.exp(-ax * ax) * sum;
  return x < 0 ? -r : r;
}
const gelu = (x: number) => 0.5 * x * (1 + erf(x * Math.SQRT1_2));
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const geluTanh = (x: number) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
const silu = (x: number) => x / (1 + Math.exp(-x));

function jsActivation(d: Float32Array, f: (x: number) => number): void {
  for (let i = 0; i < d.length; i++) d[i] = f(d[i]!);
}

function jsNorm(xd: Float32Array, od: Float32Array, E: number, gamma: ArrayLike<number>, beta: ArrayLike<number> | null,
  eps: number): void {
  const g = Float64Array.from(gamma);
  const b = beta === null ? null : Float64Array.from(beta);
  for (let r = 0; r < xd.length; r += E) {
    let mean = 0;
    if (b !== null) {
      for (let c = 0; c < E; c++) mean += xd[r + c]!;
      mean /= E;
    }
    let sq = 0;
    for (let c = 0; c < E; c++) { const t = xd[r + c]! - mean; sq += t * t; }
    const inv = 1 / Math.sqrt(sq / E + eps);
    for (let c = 0; c < E; c++) od[r + c] = (xd[r + c]! - mean) * inv * g[c]! + (b === null ? 0 : b[c]!);
  }
}

/** Rotate-half RoPE over `rows` rows of `width` (heads of headDim), positions 0…, tables planned as before. */
function jsRope(d: Float32Array, rows: number, width: number, headDim: number, base = 10000): void {
  const half = headDim / 2, L = rows;
  const cos = new Float64Array(L * half), sin = new Float64Array(L * half);
  for (let i = 0; i < half; i++) {
    const theta = Math.pow(base, (-2 * i) / headDim);
    for (let l = 0; l < L; l++) { cos[l * half + i] = Math.cos(l * theta); sin[l * half + i] = Math.sin(l * theta); }
  }
  for (let row = 0; row < rows; row++) {
    const t = (row % L) * half, start = row * width;
    for (let h0 = start; h0 < start + width; h0 += headDim) {
      for (let i = 0; i < half; i++) {
        const ia = h0 + i, ib = ia + half;
        const a = d[ia]!, b = d[ib]!, c = cos[t + i]!, s = sin[t + i]!;
        d[ia] = a * c - b * s;
        d[ib] = b * c + a * s;
      }
    }
  }
}

// ---- Timing.

interface Case { name: string; elements: number; js: () => void; wasm: () => void }

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

function time(f: () => void): number {
  const t0 = performance.now();
  f();
  return performance.now() - t0;
}

function run(c: Case): void {
  c.js();
  c.wasm(); // warm-up
  const js: number[] = [], wa: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    js.push(time(c.js));
    wa.push(time(c.wasm));
  }
  const nsJs = (median(js) * 1e6) / c.elements, nsWa = (median(wa) * 1e6) / c.elements;
  console.log(`${c.name.padEnd(34)} ${String(c.elements).padStart(8)}  JS ${nsJs.toFixed(2).padStart(7)} ns/el  ` +
    `WASM ${nsWa.toFixed(3).padStart(7)} ns/el  ${(nsJs / nsWa).toFixed(1).padStart(6)}×  ` +
    `(medians ${median(js).toFixed(2)} / ${median(wa).toFixed(3)} ms)`);
}

console.log(`build ${info.build}, ${ROUNDS} rounds, Node ${process.version}`);

// Activations: values in [−4, 4] (typical pre-activation range); both sides restore the
// input before each call so that every round sees the same values.
const N = 32 * 128 * 1536;
const src = randoms(N, 1, -4, 4);
const buf = new Float32Array(N);
const t = Tensor.empty([32, 128, 1536]);
for (const [name, f] of [['gelu', gelu], ['gelu_tanh', geluTanh], ['silu', silu]] as const) {
  run({
    name: `${name} 32×128×1536 (incl. copy-in)`, elements: N,
    js: () => { buf.set(src); jsActivation(buf, f); },
    wasm: () => { t.data.set(src); applyActivation(t, name); },
  });
}
run({ name: 'copy-in alone (both sides pay it)', elements: N, js: () => buf.set(src), wasm: () => t.data.set(src) });
t.dispose();

const R = 4096, E = 384;
const xn = randoms(R * E, 2, -2, 2), g = randoms(E, 3, 0.5, 1.5), b = randoms(E, 4, -1, 1);
const on = new Float32Array(R * E);
using x = Tensor.from(xn, [R, E]);
using y = Tensor.empty([R, E]);
using gT = Tensor.from(g);
using bT = Tensor.from(b);
run({
  name: 'layerNorm 4096×384', elements: R * E,
  js: () => jsNorm(xn, on, E, g, b, 1e-5), wasm: () => { layerNorm(x, gT, bT, { out: y }); },
});
run({
  name: 'rmsNorm 4096×384', elements: R * E,
  js: () => jsNorm(xn, on, E, g, null, 1e-6), wasm: () => { rmsNorm(x, gT, { out: y }); },
});

const H = 6, D = 64;
const xr = randoms(R * H * D, 5, -1, 1);
const br = new Float32Array(R * H * D);
using q = Tensor.from(xr, [R, H * D]);
run({
  name: 'RoPE half 4096×6×64 (tables per call)', elements: R * H * D,
  js: () => { br.set(xr); jsRope(br, R, H * D, D); },
  wasm: () => { q.data.set(xr); applyRope(q, { headDim: D }); },
});
