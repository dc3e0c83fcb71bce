// Simulates an engine whose SIMD128 is broken: every instance of the SIMD build
// gets a wasm_attention export that corrupts its output. init() must notice with
// its self-test and fall back to the scalar build. Prints JSON.
import { init, Tensor, attention } from '../../../dist/index.js';

const RealInstance = WebAssembly.Instance;
globalThis.WebAssembly.Instance = function Instance(module, imports) {
  const real = new RealInstance(module, imports);
  if (real.exports.wa_simd() !== 1) return real;
  const exports = { ...real.exports };
  exports.wa_attention = (desc) => {
    const status = real.exports.wa_attention(desc);
    const words = new Uint32Array(real.exports.memory.buffer, desc, 40);
    new Float32Array(real.exports.memory.buffer, words[3], 1)[0] += 0.5; // corrupt out[0]
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
