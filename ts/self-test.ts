/**
 * Start-up self-test: a small product with a known answer, run on the freshly
 * instantiated binary. Engines have shipped broken SIMD before; if the SIMD build
 * gets this wrong, `init()` switches to the next build.
 *
 * It runs the SIMD GEMM (the microkernel that matmul, linear and the attention kernels'
 * score and value products share) rather than attention itself: engines compile each
 * function of a module on its first call, and the attention export is the largest
 * function in the binary, so testing through it made `init()` pay for compiling it
 * (docs/performance.md). Attention is compiled on its first use instead.
 */
import { Tensor } from './tensor.js';
import { matmul } from './ops/matmul.js';

/** Rows of A, shared dimension, columns of B: one full 4×8 tile plus edge tiles in both directions. */
const M = 5, K = 8, N = 9;

/**
 * Computes `A·B` for `[5, 8]·[8, 9]` inputs and compares it with the same product in
 * float64; returns a description of the first mismatch, or null when every value
 * agrees to 1e-5.
 */
export function selfTest(): string | null {
  const a = values(M * K, 3), b = values(K * N, 5);
  const want = reference(a, b);
  const at = Tensor.from(a, [M, K]), bt = Tensor.from(b, [K, N]);
  try {
    const out = matmul(at, bt);
    const got = out.toArray();
    out.dispose();
    for (let i = 0; i < want.length; i++) {
      if (!(Math.abs(got[i]! - want[i]!) <= 1e-5)) return `output[${i}] is ${got[i]}, expected ${want[i]}`;
    }
    return null;
  } catch (e) {
    return `matmul threw: ${(e as Error).message}`;
  } finally {
    at.dispose(); bt.dispose();
  }
}

/** Small deterministic values in (−1, 1). */
function values(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(Math.sin(seed * (i + 1) * 0.7) * 0.9);
  return out;
}

/** `A·B` in float64, row-major. */
function reference(a: Float64Array, b: Float64Array): Float64Array {
  const out = new Float64Array(M * N);
  for (let i = 0; i < M; i++) {
    for (let j = 0; j < N; j++) {
      let dot = 0;
      for (let t = 0; t < K; t++) dot += a[i * K + t]! * b[t * N + j]!;
      out[i * N + j] = dot;
    }
  }
  return out;
}
