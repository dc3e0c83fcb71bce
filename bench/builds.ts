/**
 * The relaxed-SIMD build against the SIMD128 build in one run (`npm run bench:builds`):
 * GEMM 1024³ and attention H=8 N=1024 D=64 (non-causal and causal), and the two
 * hand-written peak loops (bench/peak.ts).
 *
 * One process holds one instance of the library, so each build runs in fresh child
 * processes, alternated (simd, relaxed, relaxed, simd, …) for `--rounds=N` rounds: on
 * a shared machine the load drifts, and a ratio taken within a round, between two
 * neighbouring processes, is steadier than one between two separate suite runs. Each
 * child warms its kernels up, then reports the median of its timed calls; the summary
 * gives, per case, the median over rounds of each build and of the per-round ratio.
 * Node 20 needs `--experimental-wasm-relaxed-simd`; the children get it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { attention, init, matmul, Tensor, type Build } from '../dist/separate.js';
import { randoms } from './data.js';
import { measureFmaPeak, measurePeak } from './peak.js';

const FLAG = '--experimental-wasm-relaxed-simd';
const BUILDS = ['simd', 'relaxed-simd'] as const;
const CALLS = 15;
const [H, N, D] = [8, 1024, 64];
const G = 1024;

interface ChildResult { build: Build; ms: Record<string, number>; peak: number | null; fmaPeak: number | null }

const CASES: Record<string, number> = {
  [`GEMM ${G}³`]: 2 * G ** 3,
  [`attention H=${H} N=${N} D=${D} non-causal`]: 4 * H * N * N * D,
  [`attention H=${H} N=${N} D=${D} causal`]: 4 * H * N * N * D,
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Median ms of `CALLS` calls after three warm-up calls. */
function timeCalls(fn: () => void): number {
  for (let i = 0; i < 3; i++) fn();
  const ms: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function child(build: Build): Promise<void> {
  const info = await init({ build });
  if (info.build !== build) throw new Error(`asked for ${build}, got ${info.build}`);
  const names = Object.keys(CASES);
  using a = Tensor.from(randoms(G * G, 1), [G, G]);
  using b = Tensor.from(randoms(G * G, 2), [G, G]);
  using q = Tensor.from(randoms(H * N * D, 3), [H, N, D]);
  using k = Tensor.from(randoms(H * N * D, 4), [H, N, D]);
  using v = Tensor.from(randoms(H * N * D, 5), [H, N, D]);
  const ms: Record<string, number> = {
    [names[0]!]: timeCalls(() => matmul(a, b).dispose()),
    [names[1]!]: timeCalls(() => attention(q, k, v).dispose()),
    [names[2]!]: timeCalls(() => attention(q, k, v, { causal: true }).dispose()),
  };
  const result: ChildResult = { build, ms, peak: measurePeak()?.gflops ?? null, fmaPeak: measureFmaPeak()?.gflops ?? null };
  console.log(JSON.stringify(result));
}

function parent(rounds: number): void {
  const me = fileURLToPath(import.meta.url);
  const runs: ChildResult[][] = [];
  console.log(`relaxed-simd vs simd: ${rounds} rounds of fresh Node ${process.version} processes (${FLAG}), 1 thread, `
    + `median of ${CALLS} calls per process`);
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? BUILDS : [...BUILDS].reverse();
    const round = order.map((build) => JSON.parse(execFileSync(process.execPath,
      [FLAG, '--import', 'tsx', me, `--child=${build}`], { encoding: 'utf8' }).trim()) as ChildResult);
    round.sort((x, y) => BUILDS.indexOf(x.build as (typeof BUILDS)[number]) - BUILDS.indexOf(y.build as (typeof BUILDS)[number]));
    runs.push(round);
    console.log(`  round ${r + 1}: ` + Object.keys(CASES).map((c) =>
      `${c} ${round[0]!.ms[c]!.toFixed(1)} / ${round[1]!.ms[c]!.toFixed(1)} ms`).join('; '));
  }
  console.log('\n| case | simd median | relaxed-simd median | relaxed ÷ simd speed (median of rounds) |');
  console.log('| --- | --- | --- | --- |');
  for (const [c, flops] of Object.entries(CASES)) {
    const s = median(runs.map((r) => r[0]!.ms[c]!)), x = median(runs.map((r) => r[1]!.ms[c]!));
    const ratio = median(runs.map((r) => r[0]!.ms[c]! / r[1]!.ms[c]!));
    const gf = (ms: number) => (flops / ms / 1e6).toFixed(1);
    console.log(`| ${c} | ${s.toFixed(2)} ms (${gf(s)} GFLOP/s) | ${x.toFixed(2)} ms (${gf(x)} GFLOP/s) | ${ratio.toFixed(2)}× |`);
  }
  const peaks = runs.flat().map((r) => r.peak).filter((p): p is number => p !== null);
  const fma = runs.flat().map((r) => r.fmaPeak).filter((p): p is number => p !== null);
  console.log(`\npeak loops (best per process, median over processes): mul+add ${median(peaks).toFixed(1)} GFLOP/s, `
    + `relaxed_madd ${fma.length ? median(fma).toFixed(1) : '—'} GFLOP/s`);
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  await child(childArg.slice('--child='.length) as Build);
} else {
  const roundsArg = process.argv.find((a) => a.startsWith('--rounds='));
  const rounds = roundsArg ? Number(roundsArg.slice('--rounds='.length)) : 5;
  if (!Number.isInteger(rounds) || rounds < 1) {
    console.error(`--rounds must be a positive integer, got '${roundsArg}'`);
    process.exit(2);
  }
  parent(rounds);
}
