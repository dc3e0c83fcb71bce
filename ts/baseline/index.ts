/**
 * Pure-TypeScript baselines of the three kernels: straightforward, correct and
 * reasonably written (cache-friendly loop order, Float32Array, no allocation in
 * inner loops). They are what the benchmarks compare the WASM kernels against,
 * and they share no code with the WASM path.
 * @packageDocumentation
 */
export { matmulTs } from './matmul.js';
export { softmaxTs } from './softmax.js';
export { attentionTs, type AttentionTsOptions } from './attention.js';
