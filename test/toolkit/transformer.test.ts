import { describe, expect, it } from 'vitest';
import {
  MultiHeadAttention, Tensor, add, applyActivation, decoderLayer, encoderLayer, erf, feedForward, gelu, layerNorm, rmsNorm,
} from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { addNorm64, erf64, ffn64, gelu64, mha64, norm64, relu64 } from './helpers/reference-nn.js';

describe('erf and GELU', () => {
  it('erf agrees with Simpson quadrature to 1e-12 over [−7, 7]', () => {
    for (let x = -7; x <= 7; x += 0.173) expect(Math.abs(erf(x) - erf64(x))).toBeLessThan(1e-12);
    expect(erf(0)).toBe(0);
    expect(erf(Infinity)).toBe(1);
    expect(Number.isNaN(erf(NaN))).toBe(true);
  });

  it('exact GELU x·Φ(x) and ReLU, applied in place', () => {
    const xd = randoms(200, 1, -6, 6);
    using x = Tensor.from(xd, [200]);
    applyActivation(x, 'gelu');
    expectClose(x.data, Array.from(xd, gelu64), 'gelu', 1e-7, 1e-6);
    expect(gelu(1)).toBeCloseTo(0.8413447460685429, 12);
    using y = Tensor.from(xd, [200]);
    applyActivation(y, 'relu');
    expect(Array.from(y.data)).toEqual(Array.from(xd, (v) => Math.fround(relu64(v))));
    // @ts-expect-error an unknown activation
    expect(() => applyActivation(y, 'tanh')).toThrow(TypeError);
  });
});

describe('residual add and normalisation', () => {
  it('add: same shape, trailing-axes broadcast, in place', () => {
    const ad = randoms(24, 2), bd = randoms(24, 3), cd = randoms(4, 4);
    using a = Tensor.from(ad, [2, 3, 4]);
    using b = Tensor.from(bd, [2, 3, 4]);
    using c = Tensor.from(cd, [4]);
    using s = add(a, b);
    expectClose(s.data, Array.from(ad, (v, i) => v + bd[i]!), 'a + b', 1e-7, 1e-7);
    add(a, c, { out: a });
    expectClose(a.data, Array.from(ad, (v, i) => v + cd[i % 4]!), 'a += bias', 1e-7, 1e-7);
    using wrong = Tensor.zeros([3]);
    expect(() => add(a, wrong)).toThrow(/b \[3\] must equal a \[2, 3, 4\] or its trailing axes/);
  });

  it('layerNorm and rmsNorm against float64, gamma/beta as arrays or tensors, in place', () => {
    const [R, E] = [5, 12];
    const xd = randoms(R * E, 5, -3, 3), g = randoms(E, 6), b = randoms(E, 7);
    using x = Tensor.from(xd, [R, E]);
    using ln = layerNorm(x, g, b);
    expectClose(ln.data, norm64(xd, E, g, b, 1e-5), 'layerNorm', 1e-5, 1e-4);
    using gt = Tensor.from(g, [E]);
    using rms = rmsNorm(x, gt, { eps: 1e-3 });
    expectClose(rms.data, norm64(xd, E, g, null, 1e-3), 'rmsNorm', 1e-5, 1e-4);
    layerNorm(x, g, b, { out: x, eps: 0.5 });
    expectClose(x.data, norm64(xd, E, g, b, 0.5), 'layerNorm in place', 1e-5, 1e-4);
    expect(() => layerNorm(x, g.subarray(1), b)).toThrow(/gamma \[12\] has 11 values, expected 12/);
  });
});

describe('feed-forward network', () => {
  it('GELU and ReLU, tensor and array weights, against float64', () => {
    const [B, L, E, F] = [2, 3, 8, 20];
    const xd = randoms(B * L * E, 8);
    const p = { w1: randoms(F * E, 9, -0.5, 0.5), b1: randoms(F, 10), w2: randoms(E * F, 11, -0.5, 0.5), b2: randoms(E, 12), F };
    using x = Tensor.from(xd, [B, L, E]);
    using y = feedForward(x, { ...p, activation: 'gelu' });
    expect(y.shape).toEqual([B, L, E]);
    expectClose(y.data, ffn64(xd, B * L, E, p, gelu64), 'gelu FFN', 1e-5, 1e-4);
    using w1 = Tensor.from(p.w1, [F, E]);
    using w2 = Tensor.from(p.w2, [E, F]);
    using z = feedForward(x, { w1, w2, activation: 'relu' });
    expectClose(z.data, ffn64(xd, B * L, E, { w1: p.w1, w2: p.w2, F }, relu64), 'relu FFN, no bias', 1e-5, 1e-4);
    expect(() => feedForward(x, { w1, w2: w1 })).toThrow(/w2 must be \[8, 20\], got \[20, 8\]/);
  });
});

interface LayerRef {
  mha: MultiHeadAttention;
  ref: { wq: Float32Array; wk: Float32Array; wv: Float32Array; wo: Float32Array; bq: Float32Array; bk: Float32Array; bv: Float32Array; bo: Float32Array };
}

function attentionLayer(E: number, H: number, seed: number, kdim = E): LayerRef {
  const ref = {
    wq: randoms(E * E, seed, -0.4, 0.4), wk: randoms(E * kdim, seed + 1, -0.4, 0.4), wv: randoms(E * kdim, seed + 2, -0.4, 0.4),
    wo: randoms(E * E, seed + 3, -0.4, 0.4), bq: randoms(E, seed + 4), bk: randoms(E, seed + 5), bv: randoms(E, seed + 6),
    bo: randoms(E, seed + 7),
  };
  const mha = new MultiHeadAttention({ embedDim: E, numHeads: H, kdim }).loadWeights({
    qProjWeight: ref.wq, kProjWeight: ref.wk, vProjWeight: ref.wv, outProjWeight: ref.wo,
    inProjBias: new Float32Array([...ref.bq, ...ref.bk, ...ref.bv]), outProjBias: ref.bo,
  });
  return { mha, ref };
}

const norm = (E: number, seed: number) => ({ gamma: randoms(E, seed, 0.5, 1.5), beta: randoms(E, seed + 1) });

describe('encoder and decoder layers (post-norm Add & Norm)', () => {
  it('encoderLayer: LN₂(h + FFN(h)), h = LN₁(x + MHA(x)), with key padding', () => {
    const [B, L, E, H, F] = [2, 6, 8, 2, 16];
    const xd = randoms(B * L * E, 20);
    const att = attentionLayer(E, H, 30);
    const n1 = norm(E, 40), n2 = norm(E, 42);
    const ff = { w1: randoms(F * E, 44, -0.4, 0.4), b1: randoms(F, 45), w2: randoms(E * F, 46, -0.4, 0.4), b2: randoms(E, 47), F };
    const pad = Array.from({ length: B * L }, (_, i) => i === 5 || i === 10);
    using x = Tensor.from(xd, [B, L, E]);
    try {
      using y = encoderLayer(x, { selfAttention: att.mha, norm1: n1, norm2: n2, feedForward: { ...ff, activation: 'gelu' } },
        { keyPaddingMask: pad });
      const a = mha64({ B, L, S: L, E, H, x: xd, ...att.ref, pad }).out;
      const h = addNorm64(xd, a, E, n1.gamma, n1.beta);
      const want = addNorm64(h, ffn64(h, B * L, E, ff, gelu64), E, n2.gamma, n2.beta);
      expectClose(y.data, want, 'encoder layer', 5e-5, 5e-4);
      expectClose(x.data, xd, 'input untouched', 0, 0);
    } finally {
      att.mha.dispose();
    }
  });

  it('decoderLayer: masked self-attention, cross-attention to the encoder output, FFN', () => {
    const [B, L, S, E, Ee, H, F] = [2, 5, 7, 8, 6, 2, 12];
    const xd = randoms(B * L * E, 60), md = randoms(B * S * Ee, 61);
    const self = attentionLayer(E, H, 70), cross = attentionLayer(E, H, 80, Ee);
    const n1 = norm(E, 90), n2 = norm(E, 92), n3 = norm(E, 94);
    const ff = { w1: randoms(F * E, 96, -0.4, 0.4), b1: randoms(F, 97), w2: randoms(E * F, 98, -0.4, 0.4), b2: randoms(E, 99), F };
    const memPad = Array.from({ length: B * S }, (_, i) => i % 7 === 6);
    using x = Tensor.from(xd, [B, L, E]);
    using memory = Tensor.from(md, [B, S, Ee]);
    try {
      using y = decoderLayer(x, memory, {
        selfAttention: self.mha, norm1: n1, crossAttention: cross.mha, norm2: n2, feedForward: { ...ff, activation: 'relu' }, norm3: n3,
      }, { memoryKeyPaddingMask: memPad });
      const a1 = mha64({ B, L, S: L, E, H, x: xd, ...self.ref, causal: true }).out;
      const h1 = addNorm64(xd, a1, E, n1.gamma, n1.beta);
      const a2 = mha64({ B, L, S, E, H, kdim: Ee, x: h1, ctx: md, ...cross.ref, pad: memPad }).out;
      const h2 = addNorm64(h1, a2, E, n2.gamma, n2.beta);
      const want = addNorm64(h2, ffn64(h2, B * L, E, ff, relu64), E, n3.gamma, n3.beta);
      expectClose(y.data, want, 'decoder layer', 5e-5, 5e-4);
    } finally {
      self.mha.dispose();
      cross.mha.dispose();
    }
  });
});
