// Simulates an engine whose SIMD128 is broken: every instance of the SIMD build
// gets a wa_gemm export (the product behind matmul) that corrupts its output. init() must notice with
// its self-test and fall back to the scalar build. Prints JSON.
import { init, Tensor, attention } from '../../../dist/index.js';

const RealInstance = WebAssembly.Instance;
globalThis.WebAssembly.Instance = function Instance(module, imports) {
  const real = new RealInstance(module, imports);
  if (real.exports.wa_simd() !== 1) return real;
  const exports = { ...real.exports };
  exports.wa_gemm = (...args) => {
    const status = real.exports.wa_gemm(...args);
    new Float32Array(real.exports.memory.buffer, args[11], 1)[0] += 0.5; // corrupt C[0]
    return status;
  };
  return { exports };
};
const warnings = [];
console.warn = (m) => warnings.push(String(m));
const info = await init();
const q = Tensor.from([1, 0, 0, 1], [2, 2]);
const o = attention(q, q, q);
console.log(JSON.stringify({ simd: info.simd, fallbackReason: info.fallbackReason ?? null, warnings,
  out: Array.from(o.data) }));
q.dispose();
o.dispose();
