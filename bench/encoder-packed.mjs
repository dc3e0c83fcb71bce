// Does a packed batch cost what its real tokens cost? A random encoder of MiniLM-L6's shape
// (BERT, 6 layers, d 384, 12 heads of 32, MLP 1536, vocabulary 30522) embeds, interleaved in
// one process (mixed, short, long, mixed, short, long, ...) and in CPU time:
//   mixed: 31 short sentences + 1 long one, one padded [32, LONG] batch with its attention mask
//          (converted to a packed batch inside EncoderModel);
//   short: the 31 short sentences alone ([31, SHORT], no padding);
//   long:  the long sentence alone ([1, LONG]).
// Prints medians and mixed ÷ (short + long), also as the median of the per-round ratios;
// close to 1 means padding costs nothing. With several dist directories (e.g. an older build)
// each runs the same three cases.
//
//   node --no-liftoff bench/encoder-packed.mjs [distDir ...]   (default: ./dist)
//   env: SHORT (12 tokens), LONG (256), REPS (21 rounds), WEIGHTS ('auto'; or int8, int4, ...)
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const SHORT = Number(process.env.SHORT ?? 12), LONG = Number(process.env.LONG ?? 256);
const reps = Number(process.env.REPS ?? 21), weights = process.env.WEIGHTS ?? 'auto';
const dists = process.argv.length > 2 ? process.argv.slice(2) : [path.join(root, 'dist')];

const E = 384, H = 12, F = 1536, LAYERS = 6, V = 30522, P = 512;
const config = {
  model_type: 'bert', hidden_size: E, num_attention_heads: H, intermediate_size: F, num_hidden_layers: LAYERS,
  vocab_size: V, max_position_embeddings: P, type_vocab_size: 2, layer_norm_eps: 1e-12, hidden_act: 'gelu',
};

/** Uniform values in [−a, a] from a small counter-based generator (the same every run). */
function randoms(n, seed, a) {
  const x = new Float32Array(n);
  for (let i = 0, s = seed; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    x[i] = a * (2 * (((t ^ (t >>> 14)) >>> 0) / 4294967296) - 1);
  }
  return x;
}

/** A float32 safetensors file of the model's tensors: matrices random, LayerNorms γ 1, β 0. */
function safetensors() {
  const tensors = [];
  let seed = 1;
  const mat = (name, shape) => tensors.push([name, shape, randoms(shape.reduce((p, q) => p * q), seed++, 0.05)]);
  const ln = (name) => {
    tensors.push([`${name}.weight`, [E], new Float32Array(E).fill(1)]);
    tensors.push([`${name}.bias`, [E], new Float32Array(E)]);
  };
  mat('embeddings.word_embeddings.weight', [V, E]);
  mat('embeddings.position_embeddings.weight', [P, E]);
  mat('embeddings.token_type_embeddings.weight', [2, E]);
  ln('embeddings.LayerNorm');
  for (let l = 0; l < LAYERS; l++) {
    const p = `encoder.layer.${l}.`;
    for (const [n, o, i] of [['attention.self.query', E, E], ['attention.self.key', E, E], ['attention.self.value', E, E],
      ['attention.output.dense', E, E], ['intermediate.dense', F, E], ['output.dense', E, F]]) {
      mat(`${p}${n}.weight`, [o, i]);
      mat(`${p}${n}.bias`, [o]);
    }
    ln(`${p}attention.output.LayerNorm`);
    ln(`${p}output.LayerNorm`);
  }
  const header = {};
  let off = 0;
  for (const [name, shape, data] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [off, off + data.byteLength] };
    off += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const [, , data] of tensors) { out.set(new Uint8Array(data.buffer), at); at += data.byteLength; }
  return out;
}

/** A padded batch of sentences of the given lengths (ids 100 + …), right-padded to the longest. */
function batch(lengths) {
  const L = Math.max(...lengths), B = lengths.length;
  const ids = new Array(B * L).fill(0), mask = new Array(B * L).fill(0);
  lengths.forEach((n, b) => { for (let i = 0; i < n; i++) { ids[b * L + i] = 100 + ((b * 131 + i * 17) % 20000); mask[b * L + i] = 1; } });
  return { ids, shape: [B, L], attentionMask: mask };
}

const bytes = safetensors();
const shorts = new Array(31).fill(SHORT);
const cases = { mixed: batch([...shorts, LONG]), short: batch(shorts), long: batch([LONG]) };
const candidates = [];
for (const d of dists) {
  const lib = await import(pathToFileURL(path.resolve(d, 'index.js')).href);
  const models = await import(pathToFileURL(path.resolve(d, 'models', 'index.js')).href);
  await lib.init({ simd: true });
  const opts = weights === 'auto' ? {} : { weights };
  const model = models.EncoderModel.load(config, bytes, opts);
  for (const name of ['mixed', 'short', 'long']) candidates.push({ dist: d, name, run: () => model.embed(cases[name], { normalize: true }) });
}

const cpuMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e3; };
const median = (a) => { const s = [...a].sort((p, q) => p - q); return s[s.length >> 1]; };
for (let w = 0; w < 3; w++) candidates.forEach((c) => c.run());
const times = candidates.map(() => []);
for (let r = 0; r < reps; r++) {
  candidates.forEach((c, i) => {
    const t0 = cpuMs();
    c.run();
    times[i].push(cpuMs() - t0);
  });
}
const tokens = 31 * SHORT + LONG;
console.log(`MiniLM-L6-shaped BERT (weights ${weights}), 31 × ${SHORT} + 1 × ${LONG} tokens (${tokens} real, ` +
  `${32 * LONG} padded), ${reps} rounds, CPU ms, 1 thread`);
for (const d of dists) {
  const at = (name) => candidates.findIndex((c) => c.dist === d && c.name === name);
  const [m, s, l] = ['mixed', 'short', 'long'].map(at);
  const per = times[m].map((x, r) => x / (times[s][r] + times[l][r]));
  console.log(`${d}: mixed ${median(times[m]).toFixed(1)} ms, short ${median(times[s]).toFixed(1)} ms, long ` +
    `${median(times[l]).toFixed(1)} ms; mixed ÷ (short + long) = ${(median(times[m]) / (median(times[s]) + median(times[l]))).toFixed(2)} ` +
    `(median of per-round ratios ${median(per).toFixed(2)})`);
}
