// The demo page: attention heatmaps of a typed sentence, computed with wasm-attention
// (the separate-file browser bundle, whose .wasm the server puts next to this page),
// and a live benchmark of the WASM kernel against the pure-TypeScript baseline.
import { init, Tensor, matmul, attentionWeights, attention } from '../dist/separate.js';
import { attentionTs } from '../dist/baseline/index.js';

const params = new URLSearchParams(location.search);
const SEEDS = {
  your: [0.43, 0.15, 0.89], journey: [0.55, 0.87, 0.66], starts: [0.57, 0.85, 0.64],
  with: [0.22, 0.58, 0.33], one: [0.77, 0.25, 0.10], step: [0.05, 0.80, 0.55],
};
const HEAD_DIM = 2;

/** mulberry32: deterministic uniform numbers in [0, 1) from a 32-bit seed. */
function mulberry32(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a hash of a word: the seed of its toy embedding. */
function hash(word) {
  let h = 0x811c9dc5;
  for (const c of word) h = Math.imul(h ^ c.codePointAt(0), 0x01000193) >>> 0;
  return h;
}

/** 3-d embedding: the example vectors for the six seed words, else two-decimal hashed values. */
function embed(word) {
  const known = SEEDS[word.toLowerCase()];
  if (known) return known;
  const r = mulberry32(hash(word.toLowerCase()));
  return [0, 1, 2].map(() => Math.round(r() * 100) / 100);
}

/** Fixed projection weights W_q, W_k (3 × 2) of the two heads, from seed 2024. */
const r = mulberry32(2024);
const PROJ = [0, 1].map(() => ({
  wq: Float32Array.from({ length: 3 * HEAD_DIM }, () => r() * 4 - 2),
  wk: Float32Array.from({ length: 3 * HEAD_DIM }, () => r() * 4 - 2),
}));

/** The three maps of a sentence: softmax(X·Xᵀ), and softmax(Q·Kᵀ/√2) of each head. */
function computeMaps(words, causal) {
  const L = words.length;
  const owned = [];
  const keep = (t) => { owned.push(t); return t; };
  try {
    const x = keep(Tensor.from(words.flatMap(embed), [L, 3]));
    const maps = [{
      key: 'simple', title: 'Simplified: softmax(x·xᵀ)', what: 'scores are plain dot products of the embeddings',
      weights: keep(attentionWeights(x, x, { scale: 1, causal })).toArray(),
    }];
    PROJ.forEach(({ wq, wk }, h) => {
      const q = keep(matmul(x, keep(Tensor.from(wq, [3, HEAD_DIM]))));
      const k = keep(matmul(x, keep(Tensor.from(wk, [3, HEAD_DIM]))));
      maps.push({
        key: `head${h + 1}`, title: `Head ${h + 1}: softmax(q·kᵀ/√${HEAD_DIM})`,
        what: `q = x·W_q, k = x·W_k with fixed seeded 3×${HEAD_DIM} weights`,
        weights: keep(attentionWeights(q, k, { causal })).toArray(),
      });
    });
    return maps;
  } finally {
    for (const t of owned) t.dispose();
  }
}

/** White → deep blue, for t in [0, 1]. */
function color(t) {
  const a = [247, 251, 255], b = [8, 48, 107];
  t = Math.min(1, Math.max(0, t));
  return `rgb(${a.map((c, i) => Math.round(c + (b[i] - c) * t)).join(',')})`;
}

function renderMap(map, words) {
  const L = words.length;
  const card = document.createElement('div');
  card.className = 'map';
  card.dataset.map = map.key;
  card.innerHTML = `<h3></h3><p class="what"></p>`;
  card.querySelector('h3').textContent = map.title;
  card.querySelector('.what').textContent = map.what;
  const grid = document.createElement('div');
  grid.className = 'grid';
  grid.style.gridTemplateColumns = `auto repeat(${L}, 42px)`;
  grid.append(document.createElement('span'));
  // Shades run from 0 to the map's largest weight, so small differences stay visible.
  const top = Math.max(...map.weights) || 1;
  for (const w of words) {
    const s = document.createElement('span');
    s.className = 'col-label';
    s.textContent = w;
    grid.append(s);
  }
  words.forEach((word, i) => {
    const label = document.createElement('span');
    label.className = 'row-label';
    label.textContent = word;
    grid.append(label);
    for (let j = 0; j < L; j++) {
      const w = map.weights[i * L + j];
      const cell = document.createElement('div');
      cell.className = 'cell';
      Object.assign(cell.dataset, { row: i, col: j, weight: String(w) });
      cell.style.background = color(w / top);
      cell.style.color = w / top > 0.55 ? '#fff' : '#1d2330';
      cell.textContent = w.toFixed(2);
      cell.title = `${word} → ${words[j]}: ${w.toPrecision(7)}`;
      cell.onmouseenter = () => {
        document.getElementById('hover').textContent =
          `${map.title} · query “${word}” → key “${words[j]}”: weight ${w.toPrecision(7)}`;
      };
      grid.append(cell);
    }
  });
  card.append(grid);
  return card;
}

function update() {
  const words = document.getElementById('sentence').value.split(/\s+/).filter(Boolean).slice(0, 16);
  const causal = document.getElementById('causal').checked;
  const host = document.getElementById('maps');
  if (words.length === 0) {
    host.replaceChildren();
    return;
  }
  const maps = computeMaps(words, causal);
  window.demo.maps = Object.fromEntries(maps.map((m) => [m.key, m.weights]));
  window.demo.words = words;
  host.replaceChildren(...maps.map((m) => renderMap(m, words)));
}

// ---- benchmark ------------------------------------------------------------------
const BENCH = params.get('bench') === 'small' ? { H: 4, L: 128, D: 64 } : { H: 4, L: 512, D: 64 };
const RUNS = 5;
const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const nextFrame = () => new Promise((resolve) => setTimeout(resolve, 0));

async function timeIt(fn) {
  fn(); // warm-up
  const ms = [];
  for (let i = 0; i < RUNS; i++) {
    await nextFrame(); // keep the page responsive between runs
    const t0 = performance.now();
    fn();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

async function runBenchmark() {
  const button = document.getElementById('run-bench');
  button.disabled = true;
  const { H, L, D } = BENCH;
  const rand = mulberry32(7);
  const [q, k, v] = [0, 1, 2].map(() => Float32Array.from({ length: H * L * D }, () => rand() * 2 - 1));
  const qt = Tensor.from(q, [H, L, D]), kt = Tensor.from(k, [H, L, D]), vt = Tensor.from(v, [H, L, D]);
  const out = Tensor.empty([H, L, D]);
  try {
    drawChart(null);
    const wasmMs = await timeIt(() => attention(qt, kt, vt, { causal: true, out }));
    const tsMs = await timeIt(() => attentionTs(q, k, v, H, H, L, L, D, D, { causal: true }));
    window.demo.bench = { wasmMs, tsMs };
    drawChart({ wasmMs, tsMs });
  } finally {
    for (const t of [qt, kt, vt, out]) t.dispose();
    button.disabled = false;
  }
}

function drawChart(result) {
  const svg = document.getElementById('chart');
  const { H, L, D } = BENCH;
  if (result === null) {
    svg.innerHTML = '<text x="0" y="24" fill="#5d6677">running…</text>';
    return;
  }
  const rows = [
    { label: `wasm-attention (${BUILD_LABEL[window.demo.build].replace(' build', '')})`, ms: result.wasmMs, fill: '#2f5fd0' },
    { label: 'TypeScript baseline', ms: result.tsMs, fill: '#9aa5b8' },
  ];
  const max = Math.max(...rows.map((r) => r.ms));
  const x0 = 210, width = 420;
  svg.innerHTML = rows.map((r, i) => {
    const y = 8 + i * 44, w = Math.max(2, (r.ms / max) * width);
    return `<text x="${x0 - 10}" y="${y + 21}" text-anchor="end" fill="#1d2330">${r.label}</text>
      <rect class="bar" x="${x0}" y="${y}" width="${w.toFixed(1)}" height="30" rx="4" fill="${r.fill}"></rect>
      <text x="${x0 + w + 8}" y="${y + 21}" fill="#1d2330">${r.ms.toFixed(1)} ms</text>`;
  }).join('') + `<text x="${x0}" y="112" fill="#5d6677">causal attention H=${H} L=${L} D=${D}, median of ${RUNS}: ` +
    `${(result.tsMs / result.wasmMs).toFixed(1)}× faster</text>`;
}

// ---- start ------------------------------------------------------------------------
window.demo = { ready: false };
// ?build=relaxed-simd|simd|scalar forces a build (?simd=0 is the older spelling of scalar).
const BUILD_LABEL = { 'relaxed-simd': 'relaxed-SIMD build', simd: 'SIMD128 build', scalar: 'scalar build' };
const info = await init({ build: params.get('build') ?? (params.get('simd') === '0' ? 'scalar' : 'auto') });
window.demo.simd = info.simd;
window.demo.build = info.build;
document.getElementById('build').textContent = BUILD_LABEL[info.build];
document.getElementById('bench-desc').textContent =
  `causal attention, ${BENCH.H} heads × ${BENCH.L} tokens × ${BENCH.D} dims`;
document.getElementById('sentence').addEventListener('input', update);
document.getElementById('causal').addEventListener('change', update);
document.getElementById('run-bench').addEventListener('click', () => { void runBenchmark(); });
update();
window.demo.ready = true;
document.body.dataset.ready = 'true';
