// A step-by-step walk through the attention notes this project grew from, computed
// with wasm-attention. Run after a build:  node examples/seeds-walkthrough.mjs
//
// Every number the notes print is recomputed here and compared; where a note's
// printed number or formula is wrong, the output says so ("NOTE:").
import {
  init, Tensor, matmul, softmax, attention, attentionMap, mapRows, MultiHeadAttention, KVCache,
  sinusoidalEncoding, addPositional, applyRope, encoderLayer,
} from '../dist/index.js';

await init();

const fmt = (xs, digits = 4) => `[${Array.from(xs, (x) => x.toFixed(digits)).join(', ')}]`;
const ints = (xs) => `[${Array.from(xs, (x) => String(Math.round(x))).join(', ')}]`;
const heading = (s) => console.log(`\n=== ${s} ===`);
const printMap = (t, digits = 4) => mapRows(t, digits).forEach((r) => console.log('  ', fmt(r, digits)));
/** Fails the run (non-zero exit code) when a recomputed value disagrees with the notes. */
function agree(got, want, tol, what) {
  const bad = Array.from(want).findIndex((w, i) => !(Math.abs(got[i] - w) <= tol));
  if (bad >= 0) throw new Error(`${what}: got ${fmt(got)} but the notes print ${fmt(want)}`);
  console.log(`  ✓ ${what} agrees with the notes`);
}

/** A seeded generator (mulberry32) and standard normals from it (Box–Muller). */
function rng(seed) {
  let s = seed >>> 0;
  const uniform = () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
  return { uniform, normal, fill: (n, f) => Float32Array.from({ length: n }, f) };
}

// ---------------------------------------------------------------------------
heading('1. Simplified self-attention on "Your journey starts with one step"');
const words = ['Your', 'journey', 'starts', 'with', 'one', 'step'];
const inputs = [
  0.43, 0.15, 0.89, 0.55, 0.87, 0.66, 0.57, 0.85, 0.64,
  0.22, 0.58, 0.33, 0.77, 0.25, 0.10, 0.05, 0.80, 0.55,
];
const x = Tensor.from(inputs, [6, 3]);
const scores = matmul(x, x, { transposeB: true }); // ω = X·Xᵀ: dot products of every pair
console.log('attention scores ω (X·Xᵀ):');
printMap(scores);
const weights = softmax(scores); // α = softmax of each row
console.log('attention weights α = softmax(ω) per row:');
printMap(weights);
console.log(`row 2 (query "journey") weights: ${fmt(weights.data.subarray(6, 12))}`);
agree(weights.data.subarray(6, 12), [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581], 5e-5, 'row 2 weights');
console.log(`row sums: ${fmt(mapRows(weights).map((r) => r.reduce((a, b) => a + b, 0)))}`);
const contexts = matmul(weights, x); // z(i) = Σ_j α_ij·x(j)
console.log('context vectors Z = α·X:');
printMap(contexts);
console.log(`z(2) for "journey": ${fmt(contexts.data.subarray(3, 6))}`);
const fused = attention(x, x, x, { scale: 1 }); // the same in one fused kernel call
console.log(`fused attention(X, X, X, scale 1) gives the same contexts: max difference ${
  Math.max(...fused.data.map((v, i) => Math.abs(v - contexts.data[i]))).toExponential(1)}`);
console.log('NOTE: the notes write softmax\'s sum as "e^{x_2} + e^{x_2} + e^{x_3} + …"; the first term is e^{x_1}.');
console.log('NOTE: the notes\' "Softmax PyTorch" formula subtracts the sum, e^{x_i − sum}/sum; a stable softmax');
console.log('      subtracts the row maximum: e^{x_i − max} / Σ_j e^{x_j − max} (what this library does).');
console.log('NOTE: "z(journey) = 0.6·x(Your) + 0.3·x(journey) + 0.1·x(starts)" in the notes is only an illustration;');
console.log(`      the computed weights of "journey" are the row above (largest: ${words[1]} ${weights.data[7].toFixed(4)}).`);

// ---------------------------------------------------------------------------
heading('2. Trainable Q, K, V on two tokens, and the residual sum');
const X = Tensor.from([6, 1, 4, 4, 8, 4, 6, 3], [2, 4]);
const W_Q = [1, 4, 3, 1, 1, 1, 3, 2, 3, 4, 4, 3, 1, 2, 2, 2];
const W_K = [2, 1, 2, 1, 4, 1, 4, 2, 3, 4, 4, 1, 3, 4, 1, 2];
const W_V = [4, 2, 4, 4, 3, 4, 1, 2, 2, 2, 4, 1, 4, 3, 1, 4];
const [wq, wk, wv] = [W_Q, W_K, W_V].map((w) => Tensor.from(w, [4, 4]));
const Q = matmul(X, wq), K = matmul(X, wk), V = matmul(X, wv); // q(i) = x(i)·W_Q, as in the notes
console.log(`Q1 = ${ints(Q.data.subarray(0, 4))}  Q2 = ${ints(Q.data.subarray(4, 8))}`);
console.log(`K1 = ${ints(K.data.subarray(0, 4))}  K2 = ${ints(K.data.subarray(4, 8))}`);
console.log(`V1 = ${ints(V.data.subarray(0, 4))}  V2 = ${ints(V.data.subarray(4, 8))}`);
agree([...Q.data, ...K.data, ...V.data], [23, 49, 45, 28, 33, 66, 66, 40, 40, 39, 36, 20, 59, 48, 59, 28,
  51, 36, 45, 46, 68, 53, 63, 58], 0, 'Q, K and V');
const raw = matmul(Q, K, { transposeB: true });
const scaled = matmul(Q, K, { transposeB: true, alpha: 1 / Math.sqrt(4) });
console.log(`Q1·K1 = ${raw.data[0]}, Q1·K2 = ${raw.data[1]}; divided by √d_k = 2: ${scaled.data[0]}, ${scaled.data[1]}`);
agree(scaled.data.subarray(0, 2), [2505.5, 3574], 0, 'scaled scores of token 1');
console.log(`NOTE: the notes print "23*59 + 49*48 + 45*59 + 28*28 = 3574"; that sum is ${23 * 59 + 49 * 48 + 45 * 59 + 28 * 28}.`);
console.log('      3574 is the score after dividing by √4 (the line above it says so; this one does not).');
const w1 = softmax(scaled);
console.log(`softmax([2505.5, 3574]) = ${fmt(w1.data.subarray(0, 2), 1)}  (exactly [e^−1068.5, 1]: e^−1068.5 underflows to 0)`);
const out = attention(Q, K, V);
console.log(`attention output of token 1 = 0·V1 + 1·V2 = ${ints(out.data.subarray(0, 4))}`);
agree(out.data.subarray(0, 4), [68, 53, 63, 58], 0, 'token 1 output');
const residual = Array.from(out.data.subarray(0, 4), (a, i) => a + X.data[i]);
console.log(`residual X1 + attention = ${ints(residual)}`);
agree(residual, [74, 54, 67, 62], 0, 'residual');
// The same through MultiHeadAttention (one head, no bias, identity output projection).
// PyTorch's Linear stores W as [out, in] and computes x·Wᵀ, so the notes' W (used as x·W) goes in transposed.
const T = (w) => Array.from({ length: 16 }, (_, e) => w[(e % 4) * 4 + Math.floor(e / 4)]);
const eye = Array.from({ length: 16 }, (_, e) => (e % 5 === 0 ? 1 : 0));
const mha1 = new MultiHeadAttention({ embedDim: 4, numHeads: 1, bias: false })
  .loadWeights({ qProjWeight: T(W_Q), kProjWeight: T(W_K), vProjWeight: T(W_V), outProjWeight: eye });
const viaMha = mha1.forward(X);
console.log(`MultiHeadAttention (1 head, W given as Wᵀ) token 1 = ${ints(viaMha.data.subarray(0, 4))}`);
const xW = matmul(X, wq), xWt = matmul(X, wq, { transposeB: true });
console.log(`NOTE: the notes' SelfAttention code computes x @ W_q.weight and says self.W_q(x) gives the same; it does`);
console.log(`      not: nn.Linear computes x·Wᵀ. For token 1: x·W = ${ints(xW.data.subarray(0, 4))}, x·Wᵀ = ${ints(xWt.data.subarray(0, 4))}.`);

// ---------------------------------------------------------------------------
heading('3. Why scale by 1/√d_k: variance of q·k for random vectors');
const r = rng(42), trials = 20000, dim = 64;
const qs = Tensor.from(r.fill(trials * dim, r.normal), [trials, 1, dim]);
const ks = Tensor.from(r.fill(trials * dim, r.normal), [trials, dim, 1]);
const dots = matmul(qs, ks); // one 1×64 · 64×1 product per trial
const variance = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length;
};
const before = variance(Array.from(dots.data)), after = variance(Array.from(dots.data, (d) => d / Math.sqrt(dim)));
console.log(`Variance before scaling (dim=64): ${before.toFixed(3)}   (≈ d_k = 64; the notes: 63.937)`);
console.log(`Variance after scaling (dim=64):  ${after.toFixed(4)}   (≈ 1; the notes: 0.9990)`);
if (Math.abs(before / 64 - 1) > 0.05 || Math.abs(after - 1) > 0.05) throw new Error('variance far from d_k and 1');
const row = Tensor.from(Array.from(dots.data.subarray(0, 8)), [1, 8]);
const peaky = softmax(row), calm = softmax(Tensor.from(Array.from(row.data, (d) => d / 8), [1, 8]));
console.log(`softmax of 8 unscaled scores: largest weight ${Math.max(...peaky.data).toFixed(4)}; scaled: ${Math.max(...calm.data).toFixed(4)}`);

// ---------------------------------------------------------------------------
heading('4. Causal (masked) attention: each token sees only itself and earlier tokens');
const causal = attentionMap(x, x, { scale: 1, causal: true });
printMap(causal);
// The notes' recipe: softmax first, zero the future, renormalise each row. Same result.
const masked = mapRows(weights).map((r, i) => r.map((v, j) => (j <= i ? v : 0)));
const renorm = masked.map((r) => r.map((v) => v / r.reduce((a, b) => a + b, 0)));
const diff = Math.max(...renorm.flatMap((r, i) => r.map((v, j) => Math.abs(v - causal.data[i * 6 + j]))));
console.log(`softmax → zero the future → renormalise gives the same map (max difference ${diff.toExponential(1)})`);
if (diff > 1e-6) throw new Error('causal map differs from the renormalised one');
// Decoding token by token with a KV cache gives the same contexts as causal attention.
const cache = new KVCache({ maxLength: 6, numKvHeads: 1, headDim: 3 });
const causalContexts = attention(x, x, x, { scale: 1, causal: true });
let worst = 0;
for (let t = 0; t < 6; t++) {
  const tok = Tensor.from(inputs.slice(t * 3, t * 3 + 3), [1, 3]);
  const z = cache.append(tok, tok).attend(tok, { scale: 1 });
  worst = Math.max(worst, ...z.data.map((v, i) => Math.abs(v - causalContexts.data[t * 3 + i])));
}
console.log(`KV-cache decoding, one token at a time, matches causal attention (max difference ${worst.toExponential(1)})`);

// ---------------------------------------------------------------------------
heading('5. Multi-head attention: two heads, each with its own W_q, W_k, W_v (d_in = 3, d_head = 2)');
const g = rng(123), H = 2, dh = 2;
const proj = () => Tensor.from(g.fill(H * 3 * dh, () => g.uniform() * 2 - 1), [H, 3, dh]);
const [Wq2, Wk2, Wv2] = [proj(), proj(), proj()];
const xx = Tensor.from([...inputs, ...inputs], [H, 6, 3]); // the sentence once per head
const [Qh, Kh, Vh] = [Wq2, Wk2, Wv2].map((w) => matmul(xx, w)); // [H, 6, d_head] per head
const perHead = attention(Qh, Kh, Vh); // [H, 6, d_head], scale 1/√2
const maps = attentionMap(Qh, Kh, { rows: [1, 2] }); // row of "journey" in each head
for (let h = 0; h < H; h++) console.log(`head ${h + 1}: weights of "journey" = ${fmt(maps.data.subarray(h * 6, h * 6 + 6))}`);
const concat = Array.from({ length: 6 }, (_, t) =>
  [0, 1].flatMap((h) => Array.from(perHead.data.subarray((h * 6 + t) * dh, (h * 6 + t + 1) * dh))));
console.log('concatenated context vectors (6 × 4; a learned output projection follows in a transformer):');
concat.forEach((c, t) => console.log(`   ${words[t].padEnd(8)} ${fmt(c)}`));

// ---------------------------------------------------------------------------
heading('6. Positional encoding: order matters once positions are added');
const pe = sinusoidalEncoding(6, 4);
console.log('sinusoidal PE[pos, 2i] = sin(pos/10000^(2i/d)), PE[pos, 2i+1] = cos(…), 6 positions × d = 4:');
printMap(pe);
const pe3 = sinusoidalEncoding(6, 3);
const reversed = Tensor.from(words.map((_, t) => inputs.slice((5 - t) * 3, (5 - t) * 3 + 3)).flat(), [6, 3]);
const fwd = attention(x, x, x, { scale: 1 }), rev = attention(reversed, reversed, reversed, { scale: 1 });
console.log(`without positions, reversing the sentence only reverses the contexts: "journey" ${fmt(fwd.data.subarray(3, 6))} vs ${fmt(rev.data.subarray(12, 15))}`);
addPositional(x, pe3);
addPositional(reversed, pe3);
const fwdP = attention(x, x, x, { scale: 1 }), revP = attention(reversed, reversed, reversed, { scale: 1 });
console.log(`with positions added they differ:                              "journey" ${fmt(fwdP.data.subarray(3, 6))} vs ${fmt(revP.data.subarray(12, 15))}`);
// Rotary embeddings encode position in the rotation of q and k: q·k depends on the distance only.
const dotAt = (m, n) => {
  const q = Tensor.from([0.3, -1.2, 0.8, 0.5], [1, 4]), k = Tensor.from([1.1, 0.4, -0.7, 0.9], [1, 4]);
  applyRope(q, { offset: m });
  applyRope(k, { offset: n });
  return q.data.reduce((s, v, i) => s + v * k.data[i], 0);
};
console.log(`RoPE: q·k at positions (5, 2) = ${dotAt(5, 2).toFixed(4)}, at (12, 9) = ${dotAt(12, 9).toFixed(4)} (same distance 3)`);

// ---------------------------------------------------------------------------
heading('7. A transformer (encoder) block: Add & Norm around attention and the feed-forward network');
const b = rng(7), E = 3, F = 12;
const u = (n) => b.fill(n, () => (b.uniform() * 2 - 1) * 0.6);
const block = new MultiHeadAttention({ embedDim: E, numHeads: 1 })
  .loadWeights({ inProjWeight: u(3 * E * E), inProjBias: u(3 * E), outProjWeight: u(E * E), outProjBias: u(E) });
const ones = [1, 1, 1], zeros = [0, 0, 0];
const y = encoderLayer(x, {
  selfAttention: block, norm1: { gamma: ones, beta: zeros }, norm2: { gamma: ones, beta: zeros },
  feedForward: { w1: u(F * E), b1: u(F), w2: u(E * F), b2: u(E), activation: 'gelu' },
});
console.log('x = LN(x + MHA(x)); x = LN(x + FFN(x)) on the position-encoded sentence:');
printMap(y);
const stats = mapRows(y).map((r) => [r.reduce((a, c) => a + c, 0) / 3, r.reduce((a, c) => a + c * c, 0) / 3]);
console.log(`after LayerNorm every row has mean ≈ 0 and mean square ≈ 1: ${stats.map(([m, s]) => `(${m.toFixed(3)}, ${s.toFixed(3)})`).join(' ')}`);

console.log('\nwalkthrough complete');
