// Runs handler.mjs under edge-runtime rules in Node: the module is compiled first
// (standing in for the platform's deploy step), then every way of compiling or
// fetching WebAssembly at run time is made to throw, and a request is handled.
//
//   node examples/edge/simulate.mjs [simd|scalar]
//
// Prints JSON: the inputs, the handler's output, and whether the blocked paths were
// really blocked (an init() with no module must fail).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const variant = process.argv[2] === 'scalar' ? 'scalar' : 'simd';
const wasmFile = fileURLToPath(new URL(`../../dist/wasm-attention-${variant}.wasm`, import.meta.url));
const module = await WebAssembly.compile(readFileSync(wasmFile)); // "deploy time"

// Node's own fetch/Request/Response (undici) compile WebAssembly when first used: load them now.
await new Response(new Request('https://edge.example/', { method: 'POST', body: '{}' }).body).json();

// Run time: no compiling from bytes, no fetching.
const blocked = (what) => () => { throw new Error(`edge: ${what} is not allowed`); };
const saved = { ...Object.getOwnPropertyDescriptors(WebAssembly), fetch: globalThis.fetch };
const Original = WebAssembly.Module;
WebAssembly.compile = blocked('WebAssembly.compile');
WebAssembly.compileStreaming = blocked('WebAssembly.compileStreaming');
WebAssembly.instantiateStreaming = blocked('WebAssembly.instantiateStreaming');
const instantiate = WebAssembly.instantiate;
WebAssembly.instantiate = (source, imports) => (source instanceof Original
  ? instantiate(source, imports) : blocked('WebAssembly.instantiate from bytes')());
// A Proxy keeps `x instanceof WebAssembly.Module` working while `new` throws.
WebAssembly.Module = new Proxy(Original, { construct: blocked('new WebAssembly.Module') });
globalThis.fetch = blocked('fetch');

// Deterministic inputs (mulberry32).
function randoms(n, seed) {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return Math.fround(((t ^ (t >>> 14)) >>> 0) / 4294967296 * 2 - 1);
  });
}
const [H, L, D] = [2, 9, 8];
const body = { q: randoms(H * L * D, 1), k: randoms(H * L * D, 2), v: randoms(H * L * D, 3), shape: [H, L, D], causal: true };

const { handle } = await import('./handler.mjs');
const { init } = await import('wasm-attention');
const request = new Request('https://edge.example/attention', { method: 'POST', body: JSON.stringify(body) });
const response = await handle(request, module);
const result = await response.json();

// The blocked paths really were blocked while the handler ran.
let compileBlocked = false;
try { await WebAssembly.compile(new Uint8Array(8)); } catch (e) { compileBlocked = /not allowed/.test(e.message); }
let moduleBlocked = false;
try { new WebAssembly.Module(new Uint8Array(8)); } catch (e) { moduleBlocked = /not allowed/.test(e.message); }
const sameModule = (await init()).module === module;
// Put Node back (its own HTTP client compiles WebAssembly lazily) before writing the result.
for (const [name, d] of Object.entries(saved)) if (name !== 'fetch') Object.defineProperty(WebAssembly, name, d);
globalThis.fetch = saved.fetch;
console.log(JSON.stringify({ variant, status: response.status, ...result, input: body, compileBlocked, moduleBlocked, sameModule }));
