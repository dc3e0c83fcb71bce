// BERT, RoBERTa, DistilBERT and ModernBERT encoders against transformers and sentence-transformers: tiny
// random models made by scripts/make-encoder-fixtures.py (weights, config, a padded batch of three
// sentences, PyTorch's last hidden states and sentence-transformers' pooled embeddings are committed).
// Measured worst errors (packed run, real tokens): hidden states 1.2e-6, pooled embeddings 8.3e-7,
// normalised mean embeddings 1.0e-7; float16 and bfloat16 weights against PyTorch on the same rounded
// weights: 1.2e-6.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { memoryStats, readSafetensors } from '../../ts/index.js';
import { EncoderModel, parseEncoderConfig, similarity, type EncoderInput } from '../../ts/models/index.js';
import { expectClose } from '../helpers/expect-close.js';

const FAMILIES = ['bert', 'roberta', 'distilbert', 'modernbert'] as const;
const TOL = 1e-5;

const fixture = (name: string, file: string) => readFileSync(new URL(`../fixtures/encoders/${name}/${file}`, import.meta.url));

interface Expected {
  shape: [number, number]; lengths: number[]; ids: number[]; attention_mask: number[]; token_type_ids?: number[];
  matryoshka: number; fp16_max_abs_hidden_change: number;
}

function load(name: string, weights = 'model.safetensors') {
  const config = JSON.parse(fixture(name, 'config.json').toString('utf8')) as Record<string, unknown>;
  const expected = JSON.parse(fixture(name, 'expected.json').toString('utf8')) as Expected;
  const ref = readSafetensors(fixture(name, 'expected.safetensors'));
  const want = (key: string) => { const t = ref.tensor(key); try { return t.toArray(); } finally { t.dispose(); } };
  const input: EncoderInput = {
    ids: expected.ids, shape: expected.shape, attentionMask: expected.attention_mask,
    ...(expected.token_type_ids ? { tokenTypeIds: expected.token_type_ids } : {}),
  };
  return { config, expected, want, input, model: EncoderModel.load(config, fixture(name, weights)) };
}

/** The same safetensors file with its tensors renamed (data offsets are relative to the data, so only the header changes). */
function renamed(bytes: Uint8Array, rename: (name: string) => string): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const out = Object.fromEntries(Object.entries(header).map(([k, v]) => [k === '__metadata__' ? k : rename(k), v]));
  const text = new TextEncoder().encode(JSON.stringify(out));
  const file = new Uint8Array(8 + text.length + bytes.length - 8 - n);
  new DataView(file.buffer).setBigUint64(0, BigInt(text.length), true);
  file.set(text, 8);
  file.set(bytes.subarray(8 + n), 8 + text.length);
  return file;
}

/**
 * The hidden states a test compares: the real tokens' rows (the batch runs packed, so
 * forward() gives zeros at padded positions, which transformers fills with values no
 * pooling reads).
 */
function compared(_family: string, h: Float32Array, mask: number[], E: number): Float32Array {
  const rows = mask.flatMap((m, i) => (m ? [i] : []));
  const out = new Float32Array(rows.length * E);
  rows.forEach((r, j) => out.set(h.subarray(r * E, (r + 1) * E), j * E));
  return out;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function hidden(model: EncoderModel, input: EncoderInput): Float32Array {
  const h = model.forward(input);
  try {
    expect(h.shape).toEqual([...input.shape, model.config.hiddenSize]);
    return h.toArray();
  } finally {
    h.dispose();
  }
}

describe.each(FAMILIES)('%s equals transformers', (name) => {
  it(`float32 weights: last hidden states of a padded batch within ${TOL}`, () => {
    const { expected, want, input, model } = load(name);
    try {
      const before = memoryStats().liveBlocks;
      const E = model.config.hiddenSize, mask = expected.attention_mask;
      const got = hidden(model, input), ref = want('hidden');
      expectClose(compared(name, got, mask, E), compared(name, ref, mask, E), `${name} hidden states`, TOL, 0);
      expect(memoryStats().liveBlocks).toBe(before);
      // Not trivially equal: rows of the reference differ.
      expect(maxDiff(ref.subarray(0, E), ref.subarray(E, 2 * E))).toBeGreaterThan(0.1);
    } finally {
      model.dispose();
    }
  });

  it('each sentence alone (no padding, no mask) gives the batch\'s rows for its real tokens', () => {
    const { expected, want, model } = load(name);
    try {
      const [, L] = expected.shape, E = model.config.hiddenSize, ref = want('hidden');
      expected.lengths.forEach((n, b) => {
        const ids = expected.ids.slice(b * L, b * L + n);
        const types = expected.token_type_ids?.slice(b * L, b * L + n);
        const got = hidden(model, { ids, shape: [1, n], ...(types ? { tokenTypeIds: types } : {}) });
        expectClose(got, ref.subarray(b * L * E, (b * L + n) * E), `${name} sentence ${b} alone`, TOL, 0);
      });
    } finally {
      model.dispose();
    }
  });

  it(`pooled embeddings equal sentence-transformers' (mean, cls, last, normalised, Matryoshka) within ${TOL}`, () => {
    const { expected, want, input, model } = load(name);
    try {
      const before = memoryStats().liveBlocks;
      const E = model.config.hiddenSize, B = expected.shape[0], k = expected.matryoshka;
      const cases = [
        ['mean', { pooling: 'mean' }, E], ['cls', { pooling: 'cls' }, E], ['last', { pooling: 'last' }, E],
        ['mean_norm', { normalize: true }, E], ['mean_norm_16', { normalize: true, dimensions: k }, k],
      ] as const;
      for (const [key, options, dims] of cases) {
        const vectors = model.embed(input, options);
        expect(vectors.length).toBe(B);
        for (const v of vectors) expect(v.length).toBe(dims);
        const flat = new Float32Array(B * dims);
        vectors.forEach((v, b) => flat.set(v, b * dims));
        expectClose(flat, want(key), `${name} ${key}`, TOL, 0);
        const t = model.embed(input, { ...options, output: 'tensor' });
        expect(t.shape).toEqual([B, dims]);
        expect(t.toArray()).toEqual(flat);
        t.dispose();
      }
      expect(memoryStats().liveBlocks).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('float16 weights under the family prefix: within 1e-5 of PyTorch on the same rounded weights; half-size projections', () => {
    const { expected, want, input, model } = load(name, 'model-fp16.safetensors');
    const full = load(name).model;
    try {
      const E = model.config.hiddenSize, mask = expected.attention_mask;
      const got = compared(name, hidden(model, input), mask, E);
      expectClose(got, compared(name, want('hidden_fp16'), mask, E), `${name} fp16 hidden states`, TOL, 0);
      // The rounding of the weights itself moves the hidden states: measured 1.6e-3 – 2.8e-3 on these
      // models (PyTorch on the rounded weights moves them as much: expected.json's fp16_max_abs_hidden_change).
      const drift = maxDiff(got, compared(name, want('hidden'), mask, E));
      expect(drift).toBeGreaterThan(1e-4);
      expect(drift).toBeLessThan(expected.fp16_max_abs_hidden_change + 1e-5);
      expect(drift).toBeLessThan(1e-2);
      const c = model.config, F = c.intermediateSize;
      // q, k, v, out, and the MLP's two (ModernBERT's GeGLU: three) projections are 16-bit.
      const projections = c.numLayers * (4 * E * E + (c.family === 'modernbert' ? 3 : 2) * E * F);
      expect(model.weightBytes).toBe(full.weightBytes - 2 * projections);
      const wide = EncoderModel.load(load(name).config, fixture(name, 'model-fp16.safetensors'), { weightDtype: 'float32' });
      try {
        expect(wide.weightBytes).toBe(full.weightBytes);
        expect(compared(name, hidden(wide, input), mask, E)).toEqual(got);
      } finally {
        wide.dispose();
      }
    } finally {
      model.dispose();
      full.dispose();
    }
  });
});

describe('pooling', () => {
  it('left padding: mean / cls / last pool the real tokens of forward()\'s rows (float64 reference)', () => {
    const { model } = load('bert');
    try {
      // Two left-padded sentences (3 and 6 real tokens) of length 6.
      const ids = [0, 0, 0, 2, 40, 3, 2, 50, 60, 70, 80, 3], mask = [0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1];
      const input: EncoderInput = { ids, attentionMask: mask, shape: [2, 6] };
      const E = model.config.hiddenSize, h = hidden(model, input);
      const real = [[3, 4, 5], [0, 1, 2, 3, 4, 5]];
      const mean = real.map((rows, b) => Array.from({ length: E }, (_, e) => rows.reduce((s, i) => s + h[(b * 6 + i) * E + e]!, 0) / rows.length));
      const row = (b: number, i: number) => Array.from(h.subarray((b * 6 + i) * E, (b * 6 + i + 1) * E));
      const cases = [['mean', mean], ['cls', [row(0, 3), row(1, 0)]], ['last', [row(0, 5), row(1, 5)]]] as const;
      for (const [pooling, want] of cases) {
        const got = model.embed(input, { pooling });
        got.forEach((v, b) => expectClose(v, want[b]!, `left-padded ${pooling} ${b}`, 1e-6, 0));
      }
      const norm = model.embed(input, { normalize: true, dimensions: 10 });
      norm.forEach((v, b) => {
        const t = mean[b]!.slice(0, 10), n = Math.hypot(...t);
        expectClose(v, t.map((x) => x / n), `normalised truncated mean ${b}`, 1e-6, 0);
      });
    } finally {
      model.dispose();
    }
  });
});

describe('packed input', () => {
  it.each(FAMILIES)('%s: { ids, seqOffsets } gives the padded batch\'s real rows and embeddings exactly', (name) => {
    const { expected, input, model } = load(name);
    try {
      const [B, L] = expected.shape, E = model.config.hiddenSize, mask = expected.attention_mask;
      const real = mask.flatMap((m, i) => (m ? [i] : []));
      const seqOffsets = [0];
      for (let b = 0; b < B; b++) seqOffsets.push(seqOffsets[b]! + mask.slice(b * L, (b + 1) * L).reduce((s, m) => s + m, 0));
      const packed = {
        ids: real.map((i) => expected.ids[i]!), seqOffsets,
        ...(expected.token_type_ids ? { tokenTypeIds: real.map((i) => expected.token_type_ids![i]!) } : {}),
      };
      const h = model.forward(packed);
      try {
        expect(h.shape).toEqual([real.length, E]);
        expect(Array.from(h.toArray())).toEqual(Array.from(compared(name, hidden(model, input), mask, E)));
      } finally {
        h.dispose();
      }
      for (const pooling of ['mean', 'cls', 'last'] as const) {
        expect(model.embed(packed, { pooling })).toEqual(model.embed(input, { pooling }));
      }
      // Padded positions of forward() are zeros.
      const padded = hidden(model, input);
      mask.forEach((m, i) => { if (!m) expect(padded.subarray(i * E, (i + 1) * E).every((x) => x === 0)).toBe(true); });
    } finally {
      model.dispose();
    }
  });

  it('rejects bad offsets, empty sentences and long sentences by name, before any allocation', () => {
    const { model } = load('bert');
    try {
      const before = memoryStats().liveBlocks;
      const f = (x: object) => () => model.forward(x as EncoderInput);
      expect(f({ ids: [5, 6, 7], seqOffsets: [0, 2] })).toThrow(/EncoderModel.forward: seqOffsets must end at the 3 packed rows, got seqOffsets\[1\] = 2/);
      expect(f({ ids: [5, 6, 7], seqOffsets: [0, 2, 1, 3] })).toThrow(/seqOffsets\[2\] = 1 < seqOffsets\[1\] = 2/);
      expect(f({ ids: [5, 6, 7], seqOffsets: [0, 0, 3] })).toThrow(/sentence 0 is empty \(seqOffsets\[0\] = seqOffsets\[1\] = 0\)/);
      expect(f({ ids: [], seqOffsets: [0] })).toThrow(/at least one sentence/);
      expect(f({ ids: [5, 600], seqOffsets: [0, 2] })).toThrow(/ids\[1\] = number 600 is not a token id/);
      expect(f({ ids: [5, 6], seqOffsets: [0, 2], tokenTypeIds: [0] })).toThrow(/tokenTypeIds must be an array of 2 values/);
      expect(f({ ids: new Array(65).fill(5), seqOffsets: [0, 65] })).toThrow(/sentence 0 needs position 64; bert has max_position_embeddings 64/);
      expect(memoryStats().liveBlocks).toBe(before);
    } finally {
      model.dispose();
    }
  });
});

describe('BERT specifics', () => {
  it('bfloat16 weights: within 1e-5 of PyTorch on the same rounded weights', () => {
    const { expected, want, input, model } = load('bert', 'model-bf16.safetensors');
    try {
      const real = (h: Float32Array) => compared('bert', h, expected.attention_mask, model.config.hiddenSize);
      const got = real(hidden(model, input));
      expectClose(got, real(want('hidden_bf16')), 'bert bf16 hidden states', TOL, 0);
      // bfloat16 keeps 8 mantissa bits (float16 11): the rounding moves hidden states further (measured 2.0e-2).
      const drift = maxDiff(got, real(want('hidden')));
      expect(drift).toBeGreaterThan(3e-3);
      expect(drift).toBeLessThan(5e-2);
    } finally {
      model.dispose();
    }
  });

  it('token types change the result; omitted token types mean all 0', () => {
    const { input, model } = load('bert');
    try {
      const zeros = new Array<number>(input.ids.length).fill(0);
      const withTypes = hidden(model, input);
      const omitted = hidden(model, { ...input, tokenTypeIds: undefined });
      expect(hidden(model, { ...input, tokenTypeIds: zeros })).toEqual(omitted);
      expect(maxDiff(withTypes, omitted)).toBeGreaterThan(1e-2);
    } finally {
      model.dispose();
    }
  });

  it('the config may be given as text; old LayerNorm gamma/beta names are read', () => {
    const { input, want, expected } = load('bert');
    const text = fixture('bert', 'config.json').toString('utf8');
    const old = renamed(fixture('bert', 'model.safetensors'), (k) => `bert.${k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')}`);
    const m = EncoderModel.load(text, old);
    try {
      expect(m.config).toMatchObject({ family: 'bert', hiddenSize: 32, numHeads: 4, headDim: 8, typeVocabSize: 2, activation: 'gelu' });
      const real = (h: Float32Array) => compared('bert', h, expected.attention_mask, m.config.hiddenSize);
      expectClose(real(hidden(m, input)), real(want('hidden')), 'bert with gamma/beta names', TOL, 0);
    } finally {
      m.dispose();
    }
    expect(parseEncoderConfig(JSON.parse(fixture('roberta', 'config.json').toString('utf8')))).toMatchObject({ family: 'roberta', padTokenId: 1 });
    expect(parseEncoderConfig(fixture('distilbert', 'config.json').toString('utf8'))).toMatchObject({ family: 'distilbert', normEps: 1e-12, typeVocabSize: 0 });
  });
});

describe('ModernBERT specifics', () => {
  it('reads its layer types, window and RoPE bases; the local window changes the result', () => {
    const { config, expected, want, input, model } = load('modernbert');
    try {
      expect(model.config).toMatchObject({
        family: 'modernbert', layerTypes: ['full', 'sliding', 'full'], slidingWindow: 4, rope: { full: 160000, sliding: 10000 },
        normBias: false, attentionBias: false, mlpBias: false,
      });
      // The published checkpoints' spelling (no layer_types / rope_parameters) gives the same model.
      const { layer_types: _t, rope_parameters: _r, ...legacy } = config;
      const old = EncoderModel.load({ ...legacy, global_rope_theta: 160000, local_rope_theta: 10000 }, fixture('modernbert', 'model.safetensors'));
      try {
        expect(old.config.layerTypes).toEqual(['full', 'sliding', 'full']);
        expect(hidden(old, input)).toEqual(hidden(model, input));
      } finally {
        old.dispose();
      }
      // Every layer global: a different model, far from the reference on the long sentences.
      const global = EncoderModel.load({ ...config, layer_types: ['full_attention', 'full_attention', 'full_attention'] }, fixture('modernbert', 'model.safetensors'));
      try {
        const E = model.config.hiddenSize, mask = expected.attention_mask;
        const drift = maxDiff(compared('modernbert', hidden(global, input), mask, E), compared('modernbert', want('hidden'), mask, E));
        expect(drift).toBeGreaterThan(1e-2);
      } finally {
        global.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

describe('similarity', () => {
  it('cosine and dot equal a float64 computation; dot of normalised vectors is their cosine', () => {
    const { input, model } = load('bert');
    try {
      const [a, b, c] = model.embed(input) as [Float32Array, Float32Array, Float32Array];
      const f64 = (x: Float32Array, y: Float32Array) => {
        let d = 0, nx = 0, ny = 0;
        for (let i = 0; i < x.length; i++) { d += x[i]! * y[i]!; nx += x[i]! * x[i]!; ny += y[i]! * y[i]!; }
        return { dot: d, cos: d / Math.sqrt(nx) / Math.sqrt(ny) };
      };
      for (const [x, y] of [[a, b], [a, c], [b, c]] as const) {
        const r = f64(x, y);
        expect(Math.abs(similarity(x, y) - r.cos)).toBeLessThan(1e-12);
        expect(Math.abs(similarity(x, y, 'dot') - r.dot)).toBeLessThan(1e-9 * Math.max(1, Math.abs(r.dot)));
      }
      const [na, nb] = model.embed(input, { normalize: true }) as [Float32Array, Float32Array];
      expect(Math.abs(similarity(na, nb, 'dot') - f64(a, b).cos)).toBeLessThan(1e-6);
      expect(similarity(a, a)).toBeCloseTo(1, 12);
      expect(similarity([0, 0], [1, 2])).toBe(0);
      expect(() => similarity(a, b.subarray(1))).toThrow(/same non-zero length/);
      expect(() => similarity(a, b, 'l2' as 'dot')).toThrow(/metric/);
    } finally {
      model.dispose();
    }
  });
});

describe('bad inputs are rejected before any allocation', () => {
  const cases: [string, (m: EncoderModel, input: EncoderInput) => unknown, RegExp][] = [
    ['ids shorter than the shape', (m, x) => m.forward({ ...x, ids: Array.from(x.ids).slice(1) }), /ids has 47 values, shape \[3, 16\] needs 48/],
    ['a shape that is not [B, L]', (m, x) => m.forward({ ...x, shape: [48] as unknown as [number, number] }), /shape must be \[B, L\].*got \[48\]/],
    ['a zero length', (m, x) => m.forward({ ...x, shape: [3, 0] }), /shape must be \[B, L\]/],
    ['an id outside the vocabulary', (m, x) => m.forward({ ...x, ids: Array.from(x.ids, (v, i) => (i === 5 ? 128 : v)) }), /ids\[5\] = number 128 is not a token id \(integers in \[0, 128\)\)/],
    ['a negative id', (m, x) => m.forward({ ...x, ids: Array.from(x.ids, (v, i) => (i === 0 ? -1 : v)) }), /ids\[0\] = number -1/],
    ['a fractional id', (m, x) => m.forward({ ...x, ids: Array.from(x.ids, (v, i) => (i === 2 ? 3.5 : v)) }), /ids\[2\] = number 3.5/],
    ['a mask of the wrong length', (m, x) => m.forward({ ...x, attentionMask: Array.from(x.attentionMask!).slice(0, 16) }), /attentionMask has 16 values, shape \[3, 16\] needs 48/],
    ['a mask value that is not 0/1', (m, x) => m.forward({ ...x, attentionMask: Array.from(x.attentionMask!, (v, i) => (i === 3 ? 2 : v)) }), /attentionMask\[3\] = number 2/],
    ['a sentence with no real token', (m, x) => m.embed({ ...x, attentionMask: Array.from(x.attentionMask!, (v, i) => (i >= 16 && i < 32 ? 0 : v)) }), /row 1 has no real token/],
    ['a token type outside type_vocab_size', (m, x) => m.forward({ ...x, tokenTypeIds: new Array(48).fill(2) }), /tokenTypeIds\[0\] = number 2 is not a token type \(integers in \[0, 2\)\)/],
    ['more positions than max_position_embeddings', (m) => m.forward({ ids: new Array(65).fill(5), shape: [1, 65] }), /L = 65 exceeds max_position_embeddings 64/],
    ['an unknown pooling', (m, x) => m.embed(x, { pooling: 'max' as 'mean' }), /pooling must be 'mean', 'cls' or 'last', got "max"/],
    ['too many dimensions', (m, x) => m.embed(x, { dimensions: 33 }), /dimensions must be an integer in \[1, 32\].*33/],
    ['an unknown output', (m, x) => m.embed(x, { output: 'list' as 'arrays' }), /output must be 'arrays' or 'tensor'/],
    ['no input', (m) => m.forward(null as unknown as EncoderInput), /input must be \{ ids, shape/],
  ];

  it.each(cases)('%s', (_, call, message) => {
    const { input, model } = load('bert');
    try {
      const before = memoryStats().liveBlocks;
      expect(() => call(model, input)).toThrow(message);
      expect(memoryStats().liveBlocks).toBe(before);
    } finally {
      model.dispose();
    }
  });

  it('family rules: no token types for DistilBERT; RoBERTa positions start after pad_token_id', () => {
    const d = load('distilbert'), r = load('roberta');
    try {
      const before = memoryStats().liveBlocks;
      expect(() => d.model.forward({ ...d.input, tokenTypeIds: new Array(48).fill(0) })).toThrow(/distilbert has no token types/);
      // max_position_embeddings 66, pad 1: at most 64 real tokens.
      expect(r.model.forward({ ids: new Array(64).fill(5), shape: [1, 64] }).dispose()).toBeUndefined();
      expect(() => r.model.forward({ ids: new Array(65).fill(5), shape: [1, 65] })).toThrow(/sentence 0 has 65 tokens; roberta positions reach 64/);
      expect(memoryStats().liveBlocks).toBe(before);
    } finally {
      d.model.dispose();
      r.model.dispose();
    }
  });

  it('a disposed model throws on every use; dispose twice is harmless', () => {
    const before = memoryStats().liveBlocks;
    const { input, model } = load('roberta');
    expect(memoryStats().liveBlocks).toBeGreaterThan(before);
    model.dispose();
    model.dispose();
    expect(model.disposed).toBe(true);
    expect(memoryStats().liveBlocks).toBe(before);
    expect(() => model.forward(input)).toThrow(/EncoderModel.forward: the model was used after dispose\(\)/);
    expect(() => model.embed(input)).toThrow(/EncoderModel.embed: the model was used after dispose\(\)/);
    expect(() => model.weightBytes).toThrow(/after dispose/);
    expect(memoryStats().liveBlocks).toBe(before);
  });

  it('load rejects unsupported configs, wrong weights and mismatched shapes, freeing what it read', () => {
    const config = JSON.parse(fixture('bert', 'config.json').toString('utf8')) as Record<string, unknown>;
    const bytes = fixture('bert', 'model.safetensors');
    const before = memoryStats().liveBlocks;
    expect(() => EncoderModel.load({ ...config, model_type: 'gpt2' }, bytes)).toThrow(/model_type "gpt2" is not supported/);
    expect(() => EncoderModel.load({ ...config, position_embedding_type: 'relative_key' }, bytes)).toThrow(/position_embedding_type/);
    expect(() => EncoderModel.load({ ...config, num_attention_heads: 5 }, bytes)).toThrow(/hidden_size 32 is not a multiple of config.num_attention_heads 5/);
    expect(() => EncoderModel.load('{not json', bytes)).toThrow(/config text is not JSON/);
    expect(() => EncoderModel.load(config, fixture('distilbert', 'model.safetensors'))).toThrow(/lack "embeddings.word_embeddings.weight"|has shape/);
    // Fails at the first layer's MLP, after the embeddings were read: they must be freed.
    expect(() => EncoderModel.load({ ...config, intermediate_size: 65 }, bytes)).toThrow(/intermediate.dense.weight" has shape \[64, 32\], the config implies \[65, 32\]/);
    expect(() => EncoderModel.load({ ...config, num_hidden_layers: 3 }, bytes)).toThrow(/lack "encoder.layer.2.attention.self.query.weight"/);
    expect(() => EncoderModel.load(config, bytes, { weightDtype: 'int8' as 'file' })).toThrow(/weightDtype/);
    expect(() => EncoderModel.load(config, 42 as unknown as ArrayBuffer)).toThrow(/weights must be safetensors bytes/);
    expect(memoryStats().liveBlocks).toBe(before);
  });
});
