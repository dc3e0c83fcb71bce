// Which build init() picks in a fresh process. Prints JSON.
//   node [--experimental-wasm-relaxed-simd] build-choice.mjs <index|separate|module> <build|auto> [broken-marker]
// `module` passes the relaxed-SIMD binary's bytes as init({ module }) to the default entry.
// With broken-marker (the wa_simd value of a build: 2 relaxed SIMD, 1 SIMD128), every instance
// of that build corrupts its wa_gemm (matmul) output, so init()'s self-test must reject it.
import { readFileSync } from 'node:fs';

const [entry, build, broken] = process.argv.slice(2);
if (broken !== undefined) {
  const RealInstance = WebAssembly.Instance;
  globalThis.WebAssembly.Instance = function Instance(module, imports) {
    const real = new RealInstance(module, imports);
    if (real.exports.wa_simd() !== Number(broken)) return real;
    const exports = { ...real.exports };
    exports.wa_gemm = (...args) => {
      const status = real.exports.wa_gemm(...args);
      new Float32Array(real.exports.memory.buffer, args[11], 1)[0] += 0.5; // corrupt C[0]
      return status;
    };
    return { exports };
  };
}
const warnings = [];
console.warn = (m) => warnings.push(String(m));
const lib = await import(entry === 'separate' ? '../../../dist/separate.js' : '../../../dist/index.js');
const options = entry === 'module'
  ? { module: readFileSync(new URL('../../../dist/wasm-attention-relaxed-simd.wasm', import.meta.url)) }
  : { build };
try {
  const info = await lib.init(options);
  const q = lib.Tensor.from([1, 0, 0, 1], [2, 2]);
  const o = lib.attention(q, q, q);
  console.log(JSON.stringify({ build: info.build, simd: info.simd, fallbackReason: info.fallbackReason ?? null,
    warnings, relaxedSupported: lib.relaxedSimdSupported(), out: Array.from(o.data) }));
} catch (e) {
  console.log(JSON.stringify({ error: `${e.name}: ${e.message}`, initInfo: lib.initInfo() }));
}
