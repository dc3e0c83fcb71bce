// EncoderModel with its projections stored as float16, bfloat16, int8 (q8_0) and int4 (q4_0),
// against the same model run in float32 on the weights those formats hold. The reference file
// is made here: every projection weight is rounded (float16 / bfloat16, to nearest even) or
// quantised and dequantised (test/helpers/reference.ts's own reading of q8_0 / q4_0, written
// apart from the kernels) in float64, then loaded as float32. Between the two runs remain
// only the kernels' arithmetic and, for int8/int4, their per-block int8 quantisation of the
// activations. Compared: sentence-transformers' normalised mean-pooled embeddings.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initInfo, memoryStats, readSafetensors } from '../../ts/index.js';
import { EncoderModel, type EncoderInput } from '../../ts/models/index.js';
import { f16Round, quantize64 } from '../helpers/reference.js';
import { writeSafetensors } from '../helpers/safetensors.js';

const fixture = (name: string, file: string) => readFileSync(new URL(`../fixtures/encoders/${name}/${file}`, import.meta.url));

type Format = 'float16' | 'bfloat16' | 'int8' | 'int4';

/** Round to nearest even bfloat16 (the top 16 bits of a float32), in float64. */
function bf16Round(x: number): number {
  const f = new Float32Array([x]), u = new Uint32Array(f.buffer);
  const lsb = (u[0]! >>> 16) & 1;
  u[0] = ((u[0]! + 0x7fff + lsb) >>> 16) << 16;
  return f[0]!;
}

/** The fixture's weights with every projection (a 2-D weight that is no embedding table) as `format` holds it. */
function roundedFile(name: string, format: Format): Uint8Array {
  const file = readSafetensors(fixture(name, 'model.safetensors'));
  const out = new Map<string, [number[], Float32Array]>();
  for (const key of file.names()) {
    const t = file.tensor(key, { dtype: 'float32' });
    const data = t.toArray(), shape = [...t.shape];
    t.dispose();
    if (shape.length !== 2 || key.includes('embeddings')) { out.set(key, [shape, data]); continue; }
    const [r, c] = shape as [number, number];
    const v = format === 'float16' ? data.map(f16Round) : format === 'bfloat16' ? data.map(bf16Round)
      : Float32Array.from(quantize64(format === 'int8' ? 'q8_0' : 'q4_0', data, r, c));
    out.set(key, [shape, v]);
  }
  return writeSafetensors(out);
}

function flat(vs: Float32Array[]): Float32Array {
  const out = new Float32Array(vs.reduce((s, v) => s + v.length, 0));
  let at = 0;
  for (const v of vs) { out.set(v, at); at += v.length; }
  return out;
}

function worst(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Worst |Δ| of the normalised embeddings measured on these fixtures (four families, simd build):
// float16 and bfloat16 0 (the kernels widen 16-bit weights exactly); int8 1.6e-3 – 2.3e-3 and
// int4 1.4e-3 – 1.9e-3, from the int8 rounding of the activations. The relaxed-SIMD build's
// int8 tile rounds activations to 7 bits: 2.7e-3 – 7.1e-3 there.
const relaxed = () => initInfo()!.build === 'relaxed-simd';
const BOUND: Record<Format, () => number> = {
  float16: () => 1e-6, bfloat16: () => 1e-6, int8: () => (relaxed() ? 1.5e-2 : 5e-3), int4: () => 5e-3,
};

describe.each(['bert', 'roberta', 'distilbert', 'modernbert'])('%s with 16-bit and quantised projections', (name) => {
  const config = JSON.parse(fixture(name, 'config.json').toString('utf8')) as Record<string, unknown>;
  const expected = JSON.parse(fixture(name, 'expected.json').toString('utf8')) as {
    shape: [number, number]; ids: number[]; attention_mask: number[]; token_type_ids?: number[];
  };
  const input: EncoderInput = {
    ids: expected.ids, shape: expected.shape, attentionMask: expected.attention_mask,
    ...(expected.token_type_ids ? { tokenTypeIds: expected.token_type_ids } : {}),
  };

  it.each(['float16', 'bfloat16', 'int8', 'int4'] as const)('%s: embeddings follow the float32 run on the same weights', (fmt) => {
    const before = memoryStats().liveBlocks;
    const ref = EncoderModel.load(config, roundedFile(name, fmt));
    const model = EncoderModel.load(config, fixture(name, 'model.safetensors'), { weights: fmt });
    const orig = EncoderModel.load(config, fixture(name, 'model.safetensors'));
    try {
      // An encoder keeps int8 and int4 as panels for their integer GEMMs (the same values).
      expect(model.weightFormat).toBe(fmt === 'int8' || fmt === 'int4' ? `${fmt}-panels` : fmt);
      const want = flat(ref.embed(input, { normalize: true }));
      const got = flat(model.embed(input, { normalize: true }));
      const err = worst(got, want);
      expect(err, `${name} ${fmt}`).toBeLessThan(BOUND[fmt]());
      // The weights did change: the original float32 model gives other embeddings.
      expect(worst(flat(orig.embed(input, { normalize: true })), want)).toBeGreaterThan(0);
      expect(model.weightBytes).toBeLessThan(orig.weightBytes);
    } finally {
      model.dispose();
      ref.dispose();
      orig.dispose();
    }
    expect(memoryStats().liveBlocks).toBe(before);
  });
});

describe('EncoderModel.load weights option', () => {
  const config = JSON.parse(fixture('bert', 'config.json').toString('utf8')) as Record<string, unknown>;
  it('rejects an unknown format and a contradiction by name, freeing nothing it did not take', () => {
    const before = memoryStats().liveBlocks;
    const bytes = fixture('bert', 'model.safetensors');
    expect(() => EncoderModel.load(config, bytes, { weights: 'int3' as never })).toThrow(/weights must be 'auto', 'float32', .*'int4'; got "int3"/);
    expect(() => EncoderModel.load(config, bytes, { weights: 'int8', weightDtype: 'float32' })).toThrow(/weightDtype "float32" contradicts weights "int8"/);
    expect(memoryStats().liveBlocks).toBe(before);
  });
});
