// How far each stored weight format moves a sentence-transformers model's embeddings from float32's:
//
//   npm run build && node [--experimental-wasm-relaxed-simd] bench/embedding-agreement.mjs --model=<folder> [--build=relaxed-simd]
//
// Embeds 24 sentences with every format; prints, per format, the cosine of each normalised embedding
// with float32's (min and mean), how many sentences keep their nearest other sentence, and the largest
// change of a pairwise similarity. --build picks the binary (relaxed-simd needs the flag in Node 20).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tokenizers from '@huggingface/tokenizers';
import { init } from '../dist/index.js';
import { EncoderModel } from '../dist/models/index.js';

const arg = (name, fallback) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const dir = arg('model');
if (dir === undefined) throw new Error('pass --model=<sentence-transformers folder>');
const build = arg('build', 'simd');
await init({ module: readFileSync(fileURLToPath(new URL(`../dist/wasm-attention-${build}.wasm`, import.meta.url))) });

const TEXTS = ['A man is eating food.', 'A man is eating a piece of bread.', 'The girl is carrying a baby.',
  'A man is riding a horse.', 'A woman is playing violin.', 'Two men pushed carts through the woods.',
  'A man is riding a white horse on an enclosed ground.', 'A monkey is playing drums.',
  'Someone in a gorilla costume is playing a set of drums.', 'How do I reset my password?',
  'The quarterly revenue grew by twelve percent.', 'Photosynthesis converts light energy into chemical energy.',
  'Paris is the capital of France.', 'The stock market fell sharply on Monday.',
  'Fast exact attention computes sentence embeddings at the edge.', 'WebAssembly runs near native speed in the browser.',
  'I love hiking in the mountains during autumn.', 'The recipe calls for two cups of flour.',
  'Quantum computers use qubits instead of bits.', 'She forgot her umbrella and got soaked.',
  'The committee postponed the vote until next week.', 'A dog chases a ball across the park.',
  'Rust guarantees memory safety without a garbage collector.', 'The train to Berlin is delayed.'];

async function embed(weights) {
  const m = await EncoderModel.fromFolder(dir, { tokenizers, weights });
  try {
    return TEXTS.map((t) => m.embed([t], { normalize: true })[0]);
  } finally {
    m.dispose();
  }
}
const dot = (a, b) => a.reduce((s, v, i) => s + v * b[i], 0);
/** Index of the sentence nearest to sentence i (other than itself). */
const nearest = (E, i) => E.reduce((best, e, j) => (j !== i && (best < 0 || dot(E[i], e) > dot(E[i], E[best])) ? j : best), -1);

const ref = await embed('float32');
console.log(`${dir} (${build} build), ${TEXTS.length} sentences, each format against float32:`);
for (const weights of ['float16', 'bfloat16', 'int8', 'int4']) {
  const e = await embed(weights);
  const cos = e.map((v, i) => dot(v, ref[i]) / Math.sqrt(dot(v, v) * dot(ref[i], ref[i])));
  let same = 0, moved = 0;
  for (let i = 0; i < TEXTS.length; i++) {
    if (nearest(e, i) === nearest(ref, i)) same++;
    for (let j = 0; j < TEXTS.length; j++) moved = Math.max(moved, Math.abs(dot(e[i], e[j]) - dot(ref[i], ref[j])));
  }
  console.log(`  ${weights}: cosine min ${Math.min(...cos).toFixed(5)}, mean ${(cos.reduce((a, b) => a + b) / cos.length).toFixed(5)}; ` +
    `nearest neighbour kept ${same}/${TEXTS.length}; largest similarity change ${moved.toFixed(4)}`);
}
