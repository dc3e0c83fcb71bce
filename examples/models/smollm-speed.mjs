// Tokens/s of a SmolLM-135M-shaped LLaMA decoder with random weights (30 layers, d = 576,
// 9 query heads, 3 key/value heads, head size 64, MLP 1536, vocabulary 49152, tied lm_head),
// single thread: prefill of 512 tokens, and one-token decode steps at context 512 and 4096.
// Also splits a decode step into the fused attention calls, the matrix products and the
// rest (norms, RoPE, head copies, residual adds), each timed on its own with the same
// shapes in the same run. Run after a build:
//   node examples/models/smollm-speed.mjs [--runs=5] [--dtype=F32|F16|BF16]
// F16/BF16 files load into float32 weights (half the file size, the same speed).
import { init, Tensor, matmul, readSafetensors } from '../../dist/index.js';
import { CausalLM } from '../../dist/models/index.js';

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const runs = Number(arg('runs', 5));
const dtype = arg('dtype', 'F32');
const config = {
  model_type: 'llama', architectures: ['LlamaForCausalLM'], vocab_size: 49152, hidden_size: 576, intermediate_size: 1536,
  num_hidden_layers: 30, num_attention_heads: 9, num_key_value_heads: 3, max_position_embeddings: 8192,
  rms_norm_eps: 1e-5, rope_theta: 10000, hidden_act: 'silu', tie_word_embeddings: true,
};
const E = 576, F = 1536, H = 9, Hkv = 3, D = 64, V = 49152, LAYERS = 30;

/** An in-memory safetensors file of random weights (uniform ±0.04; norms 1). */
function randomWeights() {
  const shapes = { 'model.embed_tokens.weight': [V, E], 'model.norm.weight': [E] };
  for (let l = 0; l < LAYERS; l++) {
    const p = `model.layers.${l}.`;
    Object.assign(shapes, {
      [`${p}input_layernorm.weight`]: [E], [`${p}post_attention_layernorm.weight`]: [E],
      [`${p}self_attn.q_proj.weight`]: [H * D, E], [`${p}self_attn.k_proj.weight`]: [Hkv * D, E],
      [`${p}self_attn.v_proj.weight`]: [Hkv * D, E], [`${p}self_attn.o_proj.weight`]: [E, H * D],
      [`${p}mlp.gate_proj.weight`]: [F, E], [`${p}mlp.up_proj.weight`]: [F, E], [`${p}mlp.down_proj.weight`]: [E, F],
    });
  }
  const bytes = dtype === 'F32' ? 4 : 2;
  const header = {};
  let offset = 0;
  for (const [name, shape] of Object.entries(shapes)) {
    const n = shape.reduce((a, b) => a * b, 1) * bytes;
    header[name] = { dtype, shape, data_offsets: [offset, offset + n] };
    offset += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const buf = new Uint8Array(8 + json.length + offset);
  new DataView(buf.buffer).setUint32(0, json.length, true);
  buf.set(new TextEncoder().encode(json), 8);
  let s = 12345;
  const start = 8 + json.length;
  for (const [name, { data_offsets: [a, b] }] of Object.entries(header)) {
    const norm = name.endsWith('norm.weight');
    if (dtype === 'F32') {
      const f = new Float32Array(buf.buffer, start + a, (b - a) / 4);
      for (let i = 0; i < f.length; i++) f[i] = norm ? 1 : ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.08;
    } else {
      const h = new Uint16Array(buf.buffer, start + a, (b - a) / 2);
      // F16 / BF16 bit patterns of small values: exponent near 2⁻⁵, random mantissa and sign.
      for (let i = 0; i < h.length; i++) {
        s = (s * 1664525 + 1013904223) >>> 0;
        h[i] = norm ? (dtype === 'F16' ? 0x3c00 : 0x3f80) : dtype === 'F16' ? (s & 0x83ff) | 0x2800 : (s & 0x807f) | 0x3d00;
      }
    }
  }
  return buf;
}

const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
function time(fn, n = runs) { // warm-up call, then the median of n
  fn(); // warm-up
  const ms = [];
  for (let i = 0; i < n; i++) { const t0 = performance.now(); fn(); ms.push(performance.now() - t0); }
  return median(ms);
}
const ids = (n, seed) => Array.from({ length: n }, (_, i) => (seed * 7919 + i * 104729) % V);

const info = await init();
console.log(`${info.simd ? 'SIMD128' : 'scalar'} build, ${process.version}, 1 thread, weights file ${dtype}, ${runs} runs (medians)`);
let t0 = performance.now();
const file = randomWeights();
const built = performance.now() - t0;
t0 = performance.now();
const model = CausalLM.load(config, readSafetensors(file));
console.log(`random weights: ${(file.length / 2 ** 20).toFixed(0)} MiB file made in ${(built / 1000).toFixed(1)} s, ` +
  `loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s → ${(model.weightBytes / 2 ** 20).toFixed(0)} MiB of weights in WASM memory`);

const cache = model.createCache({ maxLength: 4096 });
// Prefill 512 tokens from an empty cache (logits of the last position only, as generation needs).
const prompt = ids(512, 1);
const prefillMs = time(() => { cache.clear(); model.forward(prompt, cache, { logits: 'last' }).dispose(); }, Math.max(1, Math.min(runs, 3)));
console.log(`prefill 512 tokens: ${(prefillMs / 1000).toFixed(2)} s → ${(512 / (prefillMs / 1000)).toFixed(1)} tokens/s`);

function fill(to) {
  // Keys/values of random positions: a step's cost depends on the cache length, not its contents.
  const n = to - cache.length;
  const rand = (seed) => Tensor.from(Float32Array.from({ length: Hkv * n * D }, (_, i) => Math.sin(i * 12.9898 + seed) * 0.5), [Hkv, n, D]);
  for (const layer of cache.layers) { const k = rand(1), v = rand(2); layer.append(k, v); k.dispose(); v.dispose(); }
}

// The pieces of a step on their own, with the step's shapes: the 30 attention calls over the
// cache, and the products (distinct matrices per layer, as in the model — one shared set
// would stay in the CPU caches). What remains is norms, RoPE, head copies and residual adds.
const x = Tensor.from(Float32Array.from({ length: E }, (_, i) => Math.sin(i)), [1, E]);
const xf = Tensor.from(Float32Array.from({ length: F }, (_, i) => Math.sin(i)), [1, F]);
const products = Array.from({ length: LAYERS }, () => [
  [x, Tensor.zeros([(H + 2 * Hkv) * D, E])], [x, Tensor.zeros([E, H * D])], [x, Tensor.zeros([F, E])],
  [x, Tensor.zeros([F, E])], [xf, Tensor.zeros([E, F])]]).flat();
products.push([x, Tensor.zeros([V, E])]);
const q = Tensor.from(Float32Array.from({ length: H * D }, (_, i) => Math.cos(i)), [H, 1, D]);

const ms = (fn) => { const t = performance.now(); fn(); return performance.now() - t; };
for (const ctx of [512, 4096]) {
  if (cache.length < ctx - 1) fill(ctx - 1);
  cache.truncate(ctx - 1);
  // Interleaved: step, attention, products, repeated; medians of each (load hits all alike).
  const step = [], attn = [], mat = [];
  for (let r = -1; r < Math.max(runs, 5); r++) {
    const a = ms(() => { model.forward([42], cache, { logits: 'last' }).dispose(); });
    const b = ms(() => { for (const layer of cache.layers) layer.attend(q).dispose(); });
    cache.truncate(ctx - 1);
    const c = ms(() => { for (const [u, w] of products) matmul(u, w, { transposeB: true }).dispose(); });
    if (r >= 0) { step.push(a); attn.push(b); mat.push(c); }
  }
  const [stepMs, attnMs, matMs] = [median(step), median(attn), median(mat)];
  const pct = (v) => `${((100 * v) / stepMs).toFixed(0)}%`;
  console.log(`decode at context ${ctx}: ${stepMs.toFixed(1)} ms/token → ${(1000 / stepMs).toFixed(1)} tokens/s; ` +
    `attention ${attnMs.toFixed(1)} ms (${pct(attnMs)}), matmuls ${matMs.toFixed(1)} ms (${pct(matMs)}), ` +
    `rest ${(stepMs - attnMs - matMs).toFixed(1)} ms (${pct(stepMs - attnMs - matMs)})`);
}
for (const [, w] of products) w.dispose();
x.dispose();
xf.dispose();
q.dispose();
cache.dispose();
model.dispose();
