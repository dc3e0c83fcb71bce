// GPT-2, LLaMA, Qwen2 and Mistral decoders against transformers: tiny random models made by
// scripts/make-model-fixtures.py (weights, config and PyTorch's logits are committed).
// Logits at prefill and at every KV-cache decode step within 1e-4 of PyTorch's (float32
// weights), greedy generation identical to `generate`, float16 weights within a bound.
import { readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { KVCache, Tensor, memoryStats, readSafetensors } from '../../ts/index.js';
import { CausalLM, argmax, parseConfig, sampleToken, seededRandom } from '../../ts/models/index.js';
import { expectClose } from '../helpers/expect-close.js';
import { writeSafetensors } from '../helpers/safetensors.js';
import { release, squeeze } from '../helpers/memory.js';

const fixture = (name: string, file: string) => readFileSync(new URL(`../fixtures/models/${name}/${file}`, import.meta.url));

interface Expected {
  prompt: number[]; decode_ids: number[]; generated: number[]; min_top2_gap_generate: number; fp16_max_abs_logit_change: number;
}

function load(name: string, weights = 'model.safetensors') {
  const config = JSON.parse(fixture(name, 'config.json').toString('utf8')) as Record<string, unknown>;
  const expected = JSON.parse(fixture(name, 'expected.json').toString('utf8')) as Expected;
  const ref = readSafetensors(fixture(name, 'expected.safetensors'));
  const logits = (key: string) => { const t = ref.tensor(key); try { return t.toArray(); } finally { t.dispose(); } };
  return { config, expected, logits, model: CausalLM.load(config, fixture(name, weights)) };
}

/** Largest |a − b|. */
function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Prefill then teacher-forced decode; returns [prefill logits, every step's logits]. */
function run(model: CausalLM, prompt: number[], steps: number[], dtype?: 'float16' | 'int8'): [Float32Array, Float32Array] {
  const cache = model.createCache({ maxLength: prompt.length + steps.length, dtype });
  try {
    const pre = model.forward(prompt, cache);
    const prefill = pre.toArray();
    pre.dispose();
    const V = model.config.vocabSize, decode = new Float32Array(steps.length * V);
    steps.forEach((id, i) => {
      const l = model.forward([id], cache);
      expect(l.shape).toEqual([1, V]);
      decode.set(l.data, i * V);
      l.dispose();
    });
    expect(cache.length).toBe(prompt.length + steps.length);
    return [prefill, decode];
  } finally {
    cache.dispose();
  }
}

describe.each(['gpt2', 'llama', 'qwen2', 'mistral'])('%s equals transformers', (name) => {
  it('float32 weights: logits within 1e-4 at prefill and at every decode step; greedy 32 tokens identical', () => {
    const { expected, logits, model } = load(name);
    try {
      const V = model.config.vocabSize, P = expected.prompt.length;
      const [prefill, decode] = run(model, expected.prompt, expected.decode_ids);
      expect(prefill.length).toBe(P * V);
      const want = logits('prefill'), wantDecode = logits('decode');
      expectClose(prefill, want, `${name} prefill logits`, 1e-4, 0);
      for (let s = 0; s < expected.decode_ids.length; s++) {
        expectClose(decode.subarray(s * V, (s + 1) * V), wantDecode.subarray(s * V, (s + 1) * V), `${name} decode step ${s}`, 1e-4, 0);
      }
      // The logits must not be trivially equal (a model that ignores its input would fail above, but say so).
      expect(maxDiff(want.subarray(0, V), want.subarray(V, 2 * V))).toBeGreaterThan(0.1);
      const { ids, stop } = model.generate(expected.prompt, { maxNewTokens: 32, minNewTokens: 32 });
      expect(ids).toEqual(expected.generated);
      expect(stop).toBe('length');
    } finally {
      model.dispose();
    }
  });

  it('float16 weights: within 1e-4 of PyTorch on the same rounded weights; the rounding moves logits by a bounded amount', () => {
    const { expected, logits, model } = load(name, 'model-fp16.safetensors');
    try {
      const [prefill, decode] = run(model, expected.prompt, expected.decode_ids);
      expectClose(prefill, logits('prefill_fp16'), `${name} fp16 prefill`, 1e-4, 0);
      expectClose(decode, logits('decode_fp16'), `${name} fp16 decode`, 1e-4, 0);
      // Against the float32 model: the effect of float16 weights themselves (measured ≤ 6e-3 on these models).
      const drift = Math.max(maxDiff(prefill, logits('prefill')), maxDiff(decode, logits('decode')));
      expect(drift).toBeGreaterThan(0);
      expect(drift).toBeLessThan(1e-2);
      // Projection and embedding weights stay float16 (2 bytes an element); norms, biases, GPT-2's positions float32.
      const c = model.config, E = c.hiddenSize, F = c.intermediateSize;
      const Nq = c.numHeads * c.headDim, Nkv = c.numKvHeads * c.headDim;
      const perLayer = c.family === 'gpt2' ? 3 * E * E + E * E + 2 * F * E : (Nq + 2 * Nkv) * E + E * Nq + 3 * F * E;
      const untiedHead = c.family !== 'gpt2' && !c.tieWordEmbeddings ? c.vocabSize * E : 0;
      const projections = c.numLayers * perLayer + untiedHead + c.vocabSize * E;
      const full = load(name).model;
      try {
        expect(model.weightBytes).toBe(full.weightBytes - 2 * projections);
      } finally {
        full.dispose();
      }
    } finally {
      model.dispose();
    }
  });

  it('chunked prefill onto a cache and logits of the last position equal the full prefill', () => {
    const { expected, logits, model } = load(name);
    try {
      const V = model.config.vocabSize, P = expected.prompt.length, want = logits('prefill');
      const cache = model.createCache({ maxLength: 16 });
      try {
        const a = model.forward(expected.prompt.slice(0, 3), cache);
        const b = model.forward(expected.prompt.slice(3), cache);
        expectClose(a.data, want.subarray(0, 3 * V), `${name} chunk 1`, 1e-4, 0);
        expectClose(b.data, want.subarray(3 * V), `${name} chunk 2`, 1e-4, 0);
        a.dispose();
        b.dispose();
        cache.truncate(0);
        const last = model.forward(expected.prompt, cache, { logits: 'last' });
        expect(last.shape).toEqual([1, V]);
        expectClose(last.data, want.subarray((P - 1) * V), `${name} last-position logits`, 1e-4, 0);
        last.dispose();
      } finally {
        cache.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

/**
 * The llama fixture with its vocabulary grown to `V` rows: the fixture's 128 embedding and
 * lm_head rows first, then small values, so logits of the first 128 ids are the fixture's.
 */
function grownLlama(V: number): { config: Record<string, unknown>; bytes: Uint8Array } {
  const config = { ...JSON.parse(fixture('llama', 'config.json').toString('utf8')) as Record<string, unknown>, vocab_size: V };
  const src = readSafetensors(fixture('llama', 'model.safetensors'));
  const tensors: [string, number[], Float32Array][] = [];
  for (const name of src.names()) {
    const t = src.tensor(name);
    const data = t.toArray() as Float32Array, shape = [...t.shape];
    t.dispose();
    if (name === 'model.embed_tokens.weight' || name === 'lm_head.weight') {
      const grown = new Float32Array(V * shape[1]!);
      for (let i = data.length; i < grown.length; i++) grown[i] = Math.sin(i) * 0.01;
      grown.set(data);
      tensors.push([name, [V, shape[1]!], grown]);
    } else {
      tensors.push([name, shape, data]);
    }
  }
  const bytes = writeSafetensors(new Map(tensors.map(([name, shape, data]) => [name, [shape, data]])));
  return { config, bytes };
}

describe('K/V read as cold when the weights outgrow a last-level cache', () => {
  it('a model of more than 32 MiB of weights attends its caches as cold, with the small model\'s logits', () => {
    const spy = vi.spyOn(KVCache.prototype, 'attendRows');
    const { expected, model: small } = load('llama');
    const grown = grownLlama(66_000);
    const big = CausalLM.load(grown.config, grown.bytes);
    try {
      expect(big.weightBytes).toBeGreaterThan(32 * 2 ** 20);
      expect(small.weightBytes).toBeLessThan(32 * 2 ** 20);
      const [prefillSmall, decodeSmall] = run(small, expected.prompt, expected.decode_ids);
      const coldSmall = spy.mock.calls.map((c) => c[5]);
      spy.mockClear();
      const [prefillBig, decodeBig] = run(big, expected.prompt, expected.decode_ids);
      const coldBig = spy.mock.calls.map((c) => c[5]);
      expect(coldSmall.length).toBeGreaterThan(0);
      expect(coldSmall.every((c) => c === false)).toBe(true);
      expect(coldBig.length).toBe(coldSmall.length);
      expect(coldBig.every((c) => c === true)).toBe(true);
      // The first 128 logits of every position: the same weights, the other K/V order.
      const head = (a: Float32Array, V: number) => Float32Array.from({ length: a.length / V * 128 }, (_, i) => a[Math.floor(i / 128) * V + (i % 128)]!);
      expect(maxDiff(head(prefillBig, 66_000), prefillSmall)).toBeLessThanOrEqual(1e-5);
      expect(maxDiff(head(decodeBig, 66_000), decodeSmall)).toBeLessThanOrEqual(1e-5);
    } finally {
      spy.mockRestore();
      small.dispose();
      big.dispose();
    }
  });
});

describe('a compact KV cache (LLaMA, Qwen2)', () => {
  for (const name of ['llama', 'qwen2']) {
    it(`${name}: float16 and int8 keys/values move the decode logits by a bounded amount`, () => {
      const { expected, logits, model } = load(name);
      try {
        const wantDecode = logits('decode');
        const [, exact] = run(model, expected.prompt, expected.decode_ids);
        for (const [dtype, bound] of [['float16', 1e-2], ['int8', 0.2]] as const) {
          const [, decode] = run(model, expected.prompt, expected.decode_ids, dtype);
          const moved = maxDiff(decode, exact);
          // Rounded keys and values: close to PyTorch's logits, yet not the float32 cache's
          // (measured 0.003 for float16, 0.04–0.06 for int8; the bounds are about 3× that).
          expect(moved, `${name} ${dtype}`).toBeLessThanOrEqual(bound);
          expect(moved, `${name} ${dtype} changed nothing`).toBeGreaterThan(0);
          expect(maxDiff(decode, wantDecode)).toBeLessThanOrEqual(bound + 1e-4);
        }
      } finally {
        model.dispose();
      }
    });
  }
});

describe('bfloat16 weights (LLaMA)', () => {
  it('within 1e-4 of PyTorch on the same rounded weights', () => {
    const { expected, logits, model } = load('llama', 'model-bf16.safetensors');
    try {
      const [prefill, decode] = run(model, expected.prompt, expected.decode_ids);
      expectClose(prefill, logits('prefill_bf16'), 'bf16 prefill', 1e-4, 0);
      expectClose(decode, logits('decode_bf16'), 'bf16 decode', 1e-4, 0);
      // bfloat16 keeps 8 mantissa bits (float16 11): the rounding moves logits further (measured 5.1e-2).
      const drift = Math.max(maxDiff(prefill, logits('prefill')), maxDiff(decode, logits('decode')));
      expect(drift).toBeGreaterThan(1e-2);
      expect(drift).toBeLessThan(1e-1);
    } finally {
      model.dispose();
    }
  });
});

describe('sliding window (Mistral)', () => {
  it('a cache smaller than the sequence shifts and still generates transformers\' 32 greedy tokens', () => {
    const { expected, model } = load('mistral');
    try {
      expect(model.config.slidingWindow).toBe(6);
      const cache = model.createCache({ maxLength: 12 });
      try {
        expect(cache.window).toBe(6);
        const { ids } = model.generate(expected.prompt, { maxNewTokens: 32, cache });
        expect(ids).toEqual(expected.generated);
        expect(cache.position).toBe(8 + 31);
        expect(cache.length).toBeLessThanOrEqual(12);
      } finally {
        cache.dispose();
      }
    } finally {
      model.dispose();
    }
  });
});

describe('generation and sampling', () => {
  it('seeded sampling is reproducible, topK = 1 is greedy, samples stay inside top-k', () => {
    const { expected, model } = load('llama');
    try {
      const opts = { maxNewTokens: 12, temperature: 0.8, topK: 5, seed: 7 };
      const a = model.generate(expected.prompt, opts).ids, b = model.generate(expected.prompt, opts).ids;
      expect(a).toEqual(b);
      const c = model.generate(expected.prompt, { ...opts, seed: 8 }).ids;
      expect(c).not.toEqual(a);
      expect(model.generate(expected.prompt, { maxNewTokens: 8, temperature: 1, topK: 1, seed: 3 }).ids).toEqual(expected.generated.slice(0, 8));
      // Streaming callback stops early; an eos id stops and is kept.
      const seen: number[] = [];
      const r = model.generate(expected.prompt, { maxNewTokens: 10, onToken: (id) => { seen.push(id); return seen.length < 3; } });
      expect(r).toEqual({ ids: expected.generated.slice(0, 3), stop: 'callback' });
      const eos = expected.generated[4]!;
      const e = model.generate(expected.prompt, { maxNewTokens: 10, eosTokenIds: [eos] });
      expect(e.stop).toBe('eos');
      expect(e.ids).toEqual(expected.generated.slice(0, expected.generated.indexOf(eos) + 1));
    } finally {
      model.dispose();
    }
  });

  it('sampleToken draws from softmax(logits / T) restricted to top-k / top-p', () => {
    const logits = [2, 1, 0.5, -1, 3, 0];
    const random = seededRandom(123);
    const counts = new Array<number>(6).fill(0), N = 40000, T = 0.7;
    for (let i = 0; i < N; i++) counts[sampleToken(logits, { temperature: T, topK: 3 }, random)]!++;
    // Top 3: ids 4, 0, 1.
    const w = [4, 0, 1].map((i) => Math.exp(logits[i]! / T)), z = w.reduce((s, x) => s + x, 0);
    [4, 0, 1].forEach((id, j) => {
      const p = w[j]! / z, sd = Math.sqrt((p * (1 - p)) / N);
      expect(Math.abs(counts[id]! / N - p), `id ${id}`).toBeLessThan(5 * sd);
    });
    expect(counts[2]! + counts[3]! + counts[5]!).toBe(0);
    // Top-p 0.5 at T = 1: id 4 alone has p = 0.56 ≥ 0.5.
    for (let i = 0; i < 100; i++) expect(sampleToken(logits, { temperature: 1, topP: 0.5 }, random)).toBe(4);
    expect(argmax([1, 3, 3, -Infinity])).toBe(1);
    expect(() => sampleToken(logits, { temperature: -1 }, random)).toThrow(/temperature must be a finite number ≥ 0/);
    expect(() => sampleToken(logits, { topK: 1.5, temperature: 1 }, random)).toThrow(/topK must be an integer/);
  });
});

describe('loading errors', () => {
  it('names the field, the weight or the token at fault', () => {
    const config = JSON.parse(fixture('llama', 'config.json').toString('utf8')) as Record<string, unknown>;
    const weights = fixture('llama', 'model.safetensors');
    expect(() => CausalLM.load({ ...config, model_type: 'bert' }, weights)).toThrow(/model_type "bert" is not supported/);
    expect(() => CausalLM.load({ ...config, hidden_size: 32 }, weights)).toThrow(/weight "model.layers.0.input_layernorm.weight" has shape \[64\], the config implies \[32\]/);
    expect(() => CausalLM.load({ ...config, num_hidden_layers: 3 }, weights)).toThrow(/the weights lack "layers.2.input_layernorm.weight"/);
    expect(() => CausalLM.load({ ...config, hidden_act: 'mish' }, weights)).toThrow(/config.hidden_act "mish" is not supported/);
    expect(() => CausalLM.load({ ...config, rope_parameters: { rope_type: 'yarn', rope_theta: 1e4 } }, weights)).toThrow(/rope type "yarn" is not supported/);
    expect(() => CausalLM.load(config, weights.subarray(0, 1000))).toThrow(/truncated file/);
    const live = Tensor.zeros([1]).ptr; // allocator state before the failed loads…
    const model = CausalLM.load(config, weights);
    try {
      const cache = model.createCache({ maxLength: 4 });
      expect(() => model.forward([1, 128], cache)).toThrow(/ids\[1\] = 128 is not a row of the table \[128, 64\]/);
      expect(() => model.forward([1, 2, 3, 4, 5], cache)).toThrow(/0 cached \+ 5 new positions exceed the cache's maxLength 4/);
      expect(() => model.forward([], cache)).toThrow(/at least one token id/);
      cache.dispose();
    } finally {
      model.dispose();
    }
    expect(() => model.createCache()).toThrow(/used after dispose/);
    expect(live).toBeGreaterThan(0);
    const g = parseConfig(JSON.parse(fixture('gpt2', 'config.json').toString('utf8')));
    expect(g).toMatchObject({ family: 'gpt2', hiddenSize: 48, numHeads: 4, headDim: 12, activation: 'gelu_tanh', tieWordEmbeddings: true });
    expect(parseConfig(config)).toMatchObject({ family: 'llama', numKvHeads: 2, headDim: 16, tieWordEmbeddings: false });
  });
});

describe('rejections change nothing', () => {
  it('forward and generate validate every option (and the cache\'s room) before any layer runs', () => {
    const { expected, model } = load('llama');
    const cache = model.createCache({ maxLength: 16 });
    try {
      const prompt = expected.prompt.slice(0, 4);
      model.forward(prompt, cache).dispose();
      const state = () => [cache.length, cache.position, ...cache.layers.map((c) => Array.from(c.keys.data.subarray(0, 64)))];
      const before = JSON.stringify(state());
      const blocks = memoryStats().liveBlocks;
      const tries: [() => unknown, ErrorConstructor, RegExp][] = [
        [() => model.forward([1], cache, { logits: 'first' as never }), TypeError, /logits must be 'all' or 'last', got first/],
        [() => model.forward([1], cache, null as never), TypeError, /forward options must be an object/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, temperature: -1 }), RangeError, /temperature must be a finite number ≥ 0, got -1/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, temperature: '1' as never }), TypeError, /temperature must be a number/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, topP: 0 }), RangeError, /topP must be in \(0, 1\], got 0/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, topK: 1.5 }), RangeError, /topK must be an integer ≥ 0, got 1.5/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, eosTokenIds: 2 as never }), TypeError, /options.eosTokenIds must be an array/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, eosTokenIds: [1, 'x' as never] }), RangeError, /options.eosTokenIds\[1\] = x is not a token id/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, minNewTokens: -1 }), RangeError, /options.minNewTokens must be an integer ≥ 0, got -1/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, seed: NaN }), RangeError, /options.seed must be finite/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache, onToken: 1 as never }), TypeError, /options.onToken must be a function/],
        [() => model.generate(prompt, { maxNewTokens: 1.5, cache }), RangeError, /options.maxNewTokens must be an integer ≥ 0, got 1.5/],
        [() => model.generate(prompt, undefined as never), TypeError, /options.maxNewTokens is required/],
        [() => model.generate(prompt, {} as never), TypeError, /options.maxNewTokens must be an integer ≥ 0, got undefined/],
        [() => model.generate([1, 999], { maxNewTokens: 2, cache }), RangeError, /prompt\[1\] = 999 is not a token id/],
        // 4 held + 4 prompt + 8 fed back = 16 fits; one more does not (and would have been lost mid-way).
        [() => model.generate(prompt, { maxNewTokens: 10, cache }), RangeError, /4 cached \+ 4 prompt \+ 9 generated positions exceed the cache's maxLength 16/],
        [() => model.generate(prompt, { maxNewTokens: 2, cache: {} as never }), TypeError, /options.cache must be a cache made by this model/],
      ];
      for (const [f, Err, re] of tries) {
        let thrown: unknown = null;
        try { f(); } catch (e) { thrown = e; }
        expect(thrown, String(re)).toBeInstanceOf(Err);
        expect((thrown as Error).message, String(re)).toMatch(re);
        expect(JSON.stringify(state()), String(re)).toBe(before);
        expect(memoryStats().liveBlocks, String(re)).toBe(blocks);
      }
      // The largest run that fits is accepted and fills the cache exactly.
      const r = model.generate(prompt, { maxNewTokens: 9, cache });
      expect(r.ids.length).toBe(9);
      expect(cache.length).toBe(16);
    } finally {
      cache.dispose();
      model.dispose();
    }
  });

  it('GPT-2 refuses a generation past its learned positions up front; a sliding window may run past maxLength', () => {
    const gpt2 = load('gpt2');
    try {
      const P = gpt2.model.config.maxPositions, blocks = memoryStats().liveBlocks;
      expect(() => gpt2.model.generate([1, 2], { maxNewTokens: P })).toThrow(/position \d+ is past GPT-2's \d+ learned positions/);
      expect(memoryStats().liveBlocks).toBe(blocks);
    } finally {
      gpt2.model.dispose();
    }
    const { expected, model } = load('mistral');
    try {
      const W = model.config.slidingWindow!;
      const cache = model.createCache({ maxLength: W + 2 });
      const r = model.generate(expected.prompt.slice(0, 3), { maxNewTokens: W + 4, cache });
      expect(r.ids.length).toBe(W + 4);
      cache.dispose();
    } finally {
      model.dispose();
    }
  });

  it('logits: \'last\' matches the last row of \'all\' when memory has no room left (the row is copied before allocating)', () => {
    const { expected, model } = load('gpt2');
    try {
      const V = model.config.vocabSize, P = expected.prompt.length;
      const cacheA = model.createCache({ maxLength: P });
      const all = model.forward(expected.prompt, cacheA);
      const want = all.toArray().subarray((P - 1) * V);
      all.dispose();
      cacheA.dispose();
      const fillers = squeeze();
      const cache = model.createCache({ maxLength: P });
      try {
        const last = model.forward(expected.prompt, cache, { logits: 'last' });
        // One row runs on the matrix–vector kernel, all rows on the GEMM: the same sums in another order.
        expectClose(last.toArray(), want, 'last vs all', 1e-5, 1e-6);
        last.dispose();
      } finally {
        cache.dispose();
        release(fillers);
      }
    } finally {
      model.dispose();
    }
  });
});

describe('messages that name the problem', () => {
  it('load names the weights argument; DecoderCache and CausalLM throw the same error after dispose', () => {
    const config = JSON.parse(fixture('llama', 'config.json').toString('utf8')) as Record<string, unknown>;
    expect(() => CausalLM.load(config, 'model.safetensors' as never))
      .toThrow(/CausalLM.load: weights must be the bytes of model.safetensors \(an ArrayBuffer, Uint8Array or Buffer\) or a SafetensorsFile from readSafetensors\(\), got string model.safetensors/);
    expect(() => CausalLM.load(config, 'x' as never)).toThrow(TypeError);
    expect(() => CausalLM.load('{not json', fixture('llama', 'model.safetensors'))).toThrow(/config text is not JSON/);
    for (const [key, v] of [['hidden_size', 2 ** 40], ['vocab_size', 2 ** 31], ['intermediate_size', 2 ** 33], ['num_hidden_layers', 1e9], ['max_position_embeddings', 2 ** 40]] as const) {
      let thrown: unknown = null;
      try { parseConfig({ ...config, [key]: v }); } catch (e) { thrown = e; }
      expect(thrown, key).toBeInstanceOf(RangeError);
      expect((thrown as Error).message, key).toMatch(new RegExp(`config\\.${key} ${v}`));
    }
    const model = CausalLM.load(config, fixture('llama', 'model.safetensors'));
    expect(() => model.createCache(null as never)).toThrow(/createCache options must be an object, got null/);
    const cache = model.createCache({ maxLength: 4 });
    cache.dispose();
    for (const f of [() => cache.truncate(0), () => cache.clear(), () => model.forward([1], cache), () => model.generate([1], { maxNewTokens: 1, cache })]) {
      expect(f).toThrow(/DecoderCache used after dispose\(\)/);
    }
    model.dispose();
    for (const f of [() => model.createCache(), () => model.forward([1], cache), () => model.generate([1], { maxNewTokens: 1 }), () => model.weightBytes]) {
      expect(f).toThrow(/the model was used after dispose\(\)/);
    }
  });
});
