// Quantised weights (int8 = q8_0, int4 = q4_0) in CausalLM, against the same model run in
// float32 on the dequantised weights. The reference file is made here: every weight the
// loader quantises (projections, token embedding, lm_head) is quantised and dequantised in
// float64 by test/helpers/reference.ts's own reading of the formats (written apart from
// the kernels), then the model runs in float32 on those values. What remains between the
// two runs is the kernels' per-block int8 quantisation of the activations (each linear
// output within Σ_blocks max|x_block|/254 · Σ_block |w| of the product, see test/linear).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initInfo, memoryStats, readSafetensors } from '../../ts/index.js';
import { CausalLM } from '../../ts/models/index.js';
import { quantize64 } from '../helpers/reference.js';
import { writeSafetensors } from '../helpers/safetensors.js';

const fixture = (name: string, file: string) => readFileSync(new URL(`../fixtures/models/${name}/${file}`, import.meta.url));

/** Transposes a row-major `[r, c]` matrix. */
function transpose(x: ArrayLike<number>, r: number, c: number): Float32Array {
  const t = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j]!;
  return t;
}

/** The fixture's weights with every quantised weight replaced by its dequantised values. */
function dequantisedFile(name: string, format: 'q8_0' | 'q4_0'): Uint8Array {
  const file = readSafetensors(fixture(name, 'model.safetensors'));
  const out = new Map<string, [number[], Float32Array]>();
  for (const key of file.names()) {
    const t = file.tensor(key, { dtype: 'float32' });
    const data = t.toArray(), shape = [...t.shape];
    t.dispose();
    const matrix = shape.length === 2 && !key.endsWith('wpe.weight');
    if (!matrix) { out.set(key, [shape, data]); continue; }
    const [r, c] = shape as [number, number];
    // GPT-2's Conv1D weights are [in, out]; the loader quantises the rows of their transpose.
    const conv = name === 'gpt2' && !key.endsWith('wte.weight');
    const q = conv ? transpose(quantize64(format, transpose(data, r, c), c, r), c, r) : Float32Array.from(quantize64(format, data, r, c));
    out.set(key, [shape, q]);
  }
  return writeSafetensors(out);
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/** Prefill logits and every teacher-forced decode step's, as one array. */
function logits(model: CausalLM, prompt: number[], steps: number[]): Float32Array {
  const cache = model.createCache({ maxLength: prompt.length + steps.length });
  try {
    const parts: Float32Array[] = [];
    for (const ids of [prompt, ...steps.map((s) => [s])]) {
      const l = model.forward(ids, cache);
      parts.push(l.toArray());
      l.dispose();
    }
    const all = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
    let at = 0;
    for (const p of parts) { all.set(p, at); at += p.length; }
    return all;
  } finally {
    cache.dispose();
  }
}

// Measured worst |Δlogit| / max|logit| on these fixtures: int8 2.4e-2, int4 3.4e-2 (activation rounding only).
const BOUND = { int8: 0.03, int4: 0.05 } as const;

describe.each(['gpt2', 'llama', 'qwen2', 'mistral'])('%s with quantised weights', (name) => {
  const config = JSON.parse(fixture(name, 'config.json').toString('utf8')) as Record<string, unknown>;
  const expected = JSON.parse(fixture(name, 'expected.json').toString('utf8')) as { prompt: number[]; decode_ids: number[] };

  it.each([['int8', 'q8_0'], ['int4', 'q4_0']] as const)('%s: logits follow the float32 run on the dequantised weights', (fmt, block) => {
    const before = memoryStats().liveBlocks;
    const ref = CausalLM.load(config, dequantisedFile(name, block));
    const model = CausalLM.load(config, fixture(name, 'model.safetensors'), { weights: fmt });
    try {
      expect(model.weightFormat).toBe(fmt);
      const want = logits(ref, expected.prompt, expected.decode_ids);
      const got = logits(model, expected.prompt, expected.decode_ids);
      let worst = 0;
      for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!));
      const rel = worst / maxAbs(want);
      expect(rel, `${name} ${fmt}: worst ${worst} against max |logit| ${maxAbs(want)}`).toBeLessThan(BOUND[fmt]);
      // Not trivially equal to the float32 model on the original weights: the weights did change.
      const orig = CausalLM.load(config, fixture(name, 'model.safetensors'));
      try {
        const f32 = logits(orig, expected.prompt, expected.decode_ids);
        let moved = 0;
        for (let i = 0; i < f32.length; i++) moved = Math.max(moved, Math.abs(f32[i]! - want[i]!));
        expect(moved).toBeGreaterThan(0);
      } finally {
        orig.dispose();
      }
      // q8_0 takes 34 bytes per 32 weights, q4_0 18: far less than float32's 128.
      expect(model.weightBytes).toBeLessThan(ref.weightBytes / (fmt === 'int8' ? 2.5 : 4));
    } finally {
      model.dispose();
      ref.dispose();
    }
    expect(memoryStats().liveBlocks).toBe(before);
  });
});

describe('CausalLM.load weights option', () => {
  const config = JSON.parse(fixture('llama', 'config.json').toString('utf8')) as Record<string, unknown>;
  it('float32 from a float16 file equals the float16 run exactly (exact widening)', () => {
    const a = CausalLM.load(config, fixture('llama', 'model-fp16.safetensors'));
    const b = CausalLM.load(config, fixture('llama', 'model-fp16.safetensors'), { weights: 'float32' });
    try {
      expect(a.weightFormat).toBe('float16');
      expect(b.weightFormat).toBe('float32');
      const x = logits(a, [1, 2, 3], [4]), y = logits(b, [1, 2, 3], [4]);
      if (initInfo()!.build !== 'relaxed-simd') {
        expect(Array.from(y)).toEqual(Array.from(x));
      } else {
        // The relaxed build fuses the float16 tile (weights known finite) differently from the
        // float32 one: the same products, rounded once instead of twice.
        const top = Math.max(...Array.from(x, Math.abs));
        expect(Math.max(...Array.from(x, (v, i) => Math.abs(v - y[i]!)))).toBeLessThanOrEqual(1e-5 * top);
      }
    } finally {
      a.dispose();
      b.dispose();
    }
  });

  it('rejects an unknown format by name, before reading the file', () => {
    const before = memoryStats().liveBlocks;
    expect(() => CausalLM.load(config, fixture('llama', 'model.safetensors'), { weights: 'int3' as never })).toThrow(/weights must be .*'int8'.*got "int3"|weights must be/);
    expect(() => CausalLM.load(config, fixture('llama', 'model.safetensors'), null as never)).toThrow(TypeError);
    expect(memoryStats().liveBlocks).toBe(before);
  });
});
