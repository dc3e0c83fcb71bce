/**
 * Measured SIMD128 peak: a hand-assembled WebAssembly loop that does nothing but
 * independent `f32x4.mul` + `f32x4.add` pairs, the same instruction mix as the GEMM
 * microkernel's inner loop (which has no fused multiply-add in SIMD128). The FMA peak
 * is the same loop with each pair replaced by one `f32x4.relaxed_madd` (the
 * relaxed-SIMD build's inner loop), measured where the engine has relaxed SIMD.
 *
 * Twelve accumulators `acc ← acc·c + d` form twelve independent dependency chains,
 * enough to keep the floating-point pipes busy despite each chain's mul→add
 * latency; all fourteen vectors fit in x64's sixteen XMM registers. Each loop
 * iteration is 12 × (4 mul + 4 add) = 96 flops.
 */

import { leb, section } from './wasm-bytes.js';

const ACCUMULATORS = 12;
const FLOPS_PER_ITERATION = ACCUMULATORS * 8;

function f32(value: number): number[] {
  return [0x43, ...new Uint8Array(new Float32Array([value]).buffer)];
}

const SIMD = 0xfd;
const F32X4_SPLAT = [SIMD, ...leb(0x13)];
const F32X4_EXTRACT_LANE0 = [SIMD, ...leb(0x1f), 0];
const F32X4_ADD = [SIMD, ...leb(0xe4)];
const F32X4_MUL = [SIMD, ...leb(0xe6)];
const F32X4_RELAXED_MADD = [SIMD, ...leb(0x105)];
const get = (i: number) => [0x20, ...leb(i)];
const set = (i: number) => [0x21, ...leb(i)];

/** `(func (param $n i32) (result f32))` running `$n` iterations of the mul+add (or fused) block. */
function peakModuleBytes(fused: boolean): Uint8Array<ArrayBuffer> {
  const n = 0;
  const acc = (i: number) => 1 + i;
  const c = 1 + ACCUMULATORS;
  const d = c + 1;
  const body: number[] = [];
  body.push(...f32(0.999), ...F32X4_SPLAT, ...set(c));
  body.push(...f32(0.001), ...F32X4_SPLAT, ...set(d));
  for (let i = 0; i < ACCUMULATORS; i++) body.push(...f32(i / ACCUMULATORS), ...F32X4_SPLAT, ...set(acc(i)));
  body.push(0x03, 0x40); // loop (no result)
  for (let i = 0; i < ACCUMULATORS; i++) {
    if (fused) body.push(...get(acc(i)), ...get(c), ...get(d), ...F32X4_RELAXED_MADD, ...set(acc(i)));
    else body.push(...get(acc(i)), ...get(c), ...F32X4_MUL, ...get(d), ...F32X4_ADD, ...set(acc(i)));
  }
  body.push(...get(n), 0x41, 1, 0x6b, 0x22, ...leb(n), 0x0d, 0); // n = n - 1; br_if n != 0
  body.push(0x0b); // end loop
  // Return lane 0 of the sum of all accumulators so no chain is dead code.
  body.push(...get(acc(0)));
  for (let i = 1; i < ACCUMULATORS; i++) body.push(...get(acc(i)), ...F32X4_ADD);
  body.push(...F32X4_EXTRACT_LANE0, 0x0b); // end func
  const locals = [1, ...leb(ACCUMULATORS + 2), 0x7b]; // one group of v128 locals
  const func = [...locals, ...body];
  const name = [...new TextEncoder().encode('peak')];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...leb(name.length), ...name, 0x00, 0]), // export "peak" = func 0
    ...section(10, [1, ...leb(func.length), ...func]),
  ]);
}

/** Result of {@link measurePeak}. */
export interface PeakResult {
  /** Best GFLOP/s over the timed runs (the peak). */
  readonly gflops: number;
  /** Median GFLOP/s over the timed runs. */
  readonly medianGflops: number;
  readonly runs: number;
  readonly method: string;
}

/** Times the mul+add loop (after warm-up calls for V8's optimising tier); null without SIMD128. */
export function measurePeak(now: () => number = () => performance.now()): PeakResult | null {
  return measureLoop(false, now);
}

/** Times the `f32x4.relaxed_madd` loop (fused multiply-add, 8 flops each); null without relaxed SIMD. */
export function measureFmaPeak(now: () => number = () => performance.now()): PeakResult | null {
  return measureLoop(true, now);
}

function measureLoop(fused: boolean, now: () => number): PeakResult | null {
  const bytes = peakModuleBytes(fused);
  if (!WebAssembly.validate(bytes)) return null;
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes));
  const peak = instance.exports.peak as (n: number) => number;
  for (let i = 0; i < 20; i++) peak(20_000);
  const iterations = 5_000_000;
  const rates: number[] = [];
  for (let r = 0; r < 9; r++) {
    const t0 = now();
    peak(iterations);
    const ms = now() - t0;
    rates.push((iterations * FLOPS_PER_ITERATION) / ms / 1e6);
  }
  rates.sort((a, b) => a - b);
  return {
    gflops: rates[rates.length - 1]!,
    medianGflops: rates[rates.length >> 1]!,
    runs: rates.length,
    method: `hand-written WASM loop, ${ACCUMULATORS} independent f32x4 ${fused ? 'relaxed_madd' : 'mul+add'} chains, `
      + `best of ${rates.length} runs`,
  };
}
