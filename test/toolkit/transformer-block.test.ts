// encoderLayer and decoderLayer on the models' transformer block (ts/toolkit/block.ts) against the same layer
// composed from the toolkit's ops (MultiHeadAttention.forward, add, layerNorm, feedForward),
// which the float64 references in transformer.test.ts and transformer-pieces.test.ts check on
// their own; and the layers the block does not cover, which keep the composition.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MultiHeadAttention, Tensor, add, decoderLayer, encoderLayer, feedForward, layerNorm, memoryStats, type FeedForwardWeights,
} from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';

const [B, L, E, H, F] = [2, 7, 16, 4, 24];
const norm = (seed: number) => ({ gamma: randoms(E, seed, 0.5, 1.5), beta: randoms(E, seed + 1) });
const n1 = norm(40), n2 = norm(42);
const pad = Array.from({ length: B * L }, (_, i) => i === 6 || i === 12);

function attention(config: { numKvHeads?: number; addBiasKv?: boolean } = {}) {
  const Ekv = (config.numKvHeads ?? H) * (E / H);
  const mha = new MultiHeadAttention({ embedDim: E, numHeads: H, ...config });
  return mha.loadWeights({
    inProjWeight: randoms((E + 2 * Ekv) * E, 30, -0.4, 0.4), inProjBias: randoms(E + 2 * Ekv, 31),
    outProjWeight: randoms(E * E, 32, -0.4, 0.4), outProjBias: randoms(E, 33),
    ...(config.addBiasKv ? { biasK: randoms(Ekv, 34), biasV: randoms(Ekv, 35) } : {}),
  });
}

/** The layer from the toolkit's ops, as encoderLayer composes it when the block does not apply. */
function composed(x: Tensor, mha: MultiHeadAttention, ffn: FeedForwardWeights, pre: boolean,
  options: { causal?: boolean; keyPaddingMask?: boolean[] }): Float32Array {
  const attend = (t: Tensor) => mha.forward(t, options);
  if (pre) {
    using a = layerNorm(x, n1.gamma, n1.beta);
    using h = attend(a);
    add(h, x, { out: h });
    using b = layerNorm(h, n2.gamma, n2.beta);
    using y = feedForward(b, ffn);
    add(y, h, { out: y });
    return y.data.slice();
  }
  using h = attend(x);
  layerNorm(h, n1.gamma, n1.beta, { out: h, residual: x });
  using y = feedForward(h, ffn);
  layerNorm(y, n2.gamma, n2.beta, { out: y, residual: h });
  return y.data.slice();
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('encoderLayer on the transformer block', () => {
  for (const pre of [false, true]) {
    for (const numKvHeads of [H, 2]) {
      it(`${pre ? 'pre' : 'post'}-norm, ${numKvHeads} kv heads, causal with key padding: the block's result is the composition's`, () => {
        using x = Tensor.from(randoms(B * L * E, 20), [B, L, E]);
        using w1 = Tensor.from(randoms(F * E, 44, -0.4, 0.4), [F, E]);
        const ffn: FeedForwardWeights = { w1, b1: randoms(F, 45), w2: randoms(E * F, 46, -0.4, 0.4), b2: randoms(E, 47), activation: 'gelu' };
        using mha = attention({ numKvHeads });
        const want = composed(x, mha, ffn, pre, { causal: true, keyPaddingMask: pad });
        const live = memoryStats().liveBytes;
        const attendRows = vi.spyOn(mha, 'attendRows');
        const forward = vi.spyOn(mha, 'forward');
        using y = encoderLayer(x, { selfAttention: mha, norm1: n1, norm2: n2, feedForward: ffn, normFirst: pre },
          { causal: true, keyPaddingMask: pad });
        expect(attendRows).toHaveBeenCalledTimes(1);
        expect(forward).not.toHaveBeenCalled();
        expect(y.shape).toEqual([B, L, E]);
        expectClose(y.data, want, 'block vs composition', 2e-6, 2e-5);
        y.dispose();
        expect(memoryStats().liveBytes).toBe(live);
      });
    }
  }

  it('a 2-D input [L, E] and ReLU without biases', () => {
    using x = Tensor.from(randoms(L * E, 21), [L, E]);
    const ffn: FeedForwardWeights = { w1: randoms(F * E, 48, -0.4, 0.4), w2: randoms(E * F, 49, -0.4, 0.4) };
    using mha = attention();
    const want = composed(x, mha, ffn, false, {});
    const attendRows = vi.spyOn(mha, 'attendRows');
    using y = encoderLayer(x, { selfAttention: mha, norm1: n1, norm2: n2, feedForward: ffn });
    expect(attendRows).toHaveBeenCalledTimes(1);
    expect(y.shape).toEqual([L, E]);
    expectClose(y.data, want, 'block vs composition', 2e-6, 2e-5);
  });

  it('add_bias_kv keys are not the block\'s: the layer is composed', () => {
    using x = Tensor.from(randoms(B * L * E, 22), [B, L, E]);
    const ffn: FeedForwardWeights = { w1: randoms(F * E, 50, -0.4, 0.4), w2: randoms(E * F, 51, -0.4, 0.4) };
    using mha = attention({ addBiasKv: true });
    const want = composed(x, mha, ffn, false, { keyPaddingMask: pad });
    const attendRows = vi.spyOn(mha, 'attendRows');
    using y = encoderLayer(x, { selfAttention: mha, norm1: n1, norm2: n2, feedForward: ffn }, { keyPaddingMask: pad });
    expect(attendRows).not.toHaveBeenCalled();
    expectClose(y.data, want, 'composed layer', 0, 0);
  });

  it('a wrong feed-forward shape is reported as the composition reports it, and nothing leaks', () => {
    using x = Tensor.from(randoms(B * L * E, 23), [B, L, E]);
    using mha = attention();
    const live = memoryStats().liveBytes;
    const ffn: FeedForwardWeights = { w1: randoms(F * E, 52), w2: randoms(E * (F - 1), 53) };
    expect(() => encoderLayer(x, { selfAttention: mha, norm1: n1, norm2: n2, feedForward: ffn })).toThrow(/feedForward: w2/);
    expect(memoryStats().liveBytes).toBe(live);
  });
});

describe('decoderLayer on the transformer block', () => {
  const S = 5, Ec = 12; // the memory's length and width (the encoder's)
  const n3 = norm(54);
  const memPad = Array.from({ length: B * S }, (_, i) => i === 4 || i === 7);

  /** Cross-attention from width E to a memory of width `kdim` (separate q, k, v weights). */
  function crossAttention(config: { numKvHeads?: number; kdim?: number; addBiasKv?: boolean } = {}) {
    const Ekv = (config.numKvHeads ?? H) * (E / H), kdim = config.kdim ?? E;
    const mha = new MultiHeadAttention({ embedDim: E, numHeads: H, ...config, vdim: kdim });
    return mha.loadWeights({
      qProjWeight: randoms(E * E, 60, -0.4, 0.4), kProjWeight: randoms(Ekv * kdim, 61, -0.4, 0.4),
      vProjWeight: randoms(Ekv * kdim, 62, -0.4, 0.4), inProjBias: randoms(E + 2 * Ekv, 63),
      outProjWeight: randoms(E * E, 64, -0.4, 0.4), outProjBias: randoms(E, 65),
      ...(config.addBiasKv ? { biasK: randoms(Ekv, 66), biasV: randoms(Ekv, 67) } : {}),
    });
  }

  /** The decoder layer from the toolkit's ops, as decoderLayer composes it when the block does not apply. */
  function composedDecoder(x: Tensor, memory: Tensor, self: MultiHeadAttention, cross: MultiHeadAttention,
    ffn: FeedForwardWeights, pre: boolean, o: { keyPaddingMask?: boolean[]; memoryKeyPaddingMask?: boolean[] }): Float32Array {
    const selfAttend = (t: Tensor) => self.forward(t, { causal: true, keyPaddingMask: o.keyPaddingMask });
    const crossAttend = (t: Tensor) => cross.forward(t, { context: memory, keyPaddingMask: o.memoryKeyPaddingMask });
    const sub = (h: Tensor, nw: { gamma: Float32Array; beta: Float32Array }, f: (t: Tensor) => Tensor): Tensor => {
      if (pre) {
        using a = layerNorm(h, nw.gamma, nw.beta);
        const y = f(a);
        return add(y, h, { out: y });
      }
      const y = f(h);
      return layerNorm(y, nw.gamma, nw.beta, { out: y, residual: h });
    };
    using h1 = sub(x, n1, selfAttend);
    using h2 = sub(h1, n2, crossAttend);
    using y = sub(h2, n3, (t) => feedForward(t, ffn));
    return y.data.slice();
  }

  const ffnOf = (seed: number): FeedForwardWeights => ({
    w1: randoms(F * E, seed, -0.4, 0.4), b1: randoms(F, seed + 1), w2: randoms(E * F, seed + 2, -0.4, 0.4), b2: randoms(E, seed + 3),
    activation: 'gelu',
  });

  for (const pre of [false, true]) {
    for (const [kvHeads, kdim] of [[H, E], [2, Ec]] as const) {
      it(`${pre ? 'pre' : 'post'}-norm, cross-attention with ${kvHeads} kv heads over a width-${kdim} memory, padded keys: the block's result is the composition's`, () => {
        using x = Tensor.from(randoms(B * L * E, 24), [B, L, E]);
        using memory = Tensor.from(randoms(B * S * kdim, 25), [B, S, kdim]);
        const ffn = ffnOf(70);
        using self = attention({ numKvHeads: 2 });
        using cross = crossAttention({ numKvHeads: kvHeads, kdim });
        const o = { keyPaddingMask: pad, memoryKeyPaddingMask: memPad };
        const want = composedDecoder(x, memory, self, cross, ffn, pre, o);
        const live = memoryStats().liveBytes;
        const spies = [vi.spyOn(self, 'attendRows'), vi.spyOn(cross, 'attendRows')];
        const forwards = [vi.spyOn(self, 'forward'), vi.spyOn(cross, 'forward')];
        using y = decoderLayer(x, memory, {
          selfAttention: self, norm1: n1, crossAttention: cross, norm2: n2, feedForward: ffn, norm3: n3, normFirst: pre,
        }, o);
        for (const s of spies) expect(s).toHaveBeenCalledTimes(1);
        for (const f of forwards) expect(f).not.toHaveBeenCalled();
        expect(y.shape).toEqual([B, L, E]);
        expectClose(y.data, want, 'block vs composition', 2e-6, 2e-5);
        y.dispose();
        expect(memoryStats().liveBytes).toBe(live);
      });
    }
  }

  it('2-D inputs [L, E] and [S, kdim]', () => {
    using x = Tensor.from(randoms(L * E, 26), [L, E]);
    using memory = Tensor.from(randoms(S * Ec, 27), [S, Ec]);
    const ffn = ffnOf(74);
    using self = attention();
    using cross = crossAttention({ kdim: Ec });
    const want = composedDecoder(x, memory, self, cross, ffn, false, {});
    const crossRows = vi.spyOn(cross, 'attendRows');
    using y = decoderLayer(x, memory, { selfAttention: self, norm1: n1, crossAttention: cross, norm2: n2, feedForward: ffn, norm3: n3 });
    expect(crossRows).toHaveBeenCalledTimes(1);
    expect(y.shape).toEqual([L, E]);
    expectClose(y.data, want, 'block vs composition', 2e-6, 2e-5);
  });

  it('add_bias_kv cross keys are not the block\'s: the layer is composed', () => {
    using x = Tensor.from(randoms(B * L * E, 28), [B, L, E]);
    using memory = Tensor.from(randoms(B * S * E, 29), [B, S, E]);
    const ffn = ffnOf(78);
    using self = attention();
    using cross = crossAttention({ addBiasKv: true });
    const want = composedDecoder(x, memory, self, cross, ffn, true, {});
    const crossRows = vi.spyOn(cross, 'attendRows');
    using y = decoderLayer(x, memory, {
      selfAttention: self, norm1: n1, crossAttention: cross, norm2: n2, feedForward: ffn, norm3: n3, normFirst: true,
    });
    expect(crossRows).not.toHaveBeenCalled();
    expectClose(y.data, want, 'composed layer', 0, 0);
  });

  it('a memory of the wrong width or batch is reported as the composition reports it, and nothing leaks', () => {
    using x = Tensor.from(randoms(B * L * E, 30), [B, L, E]);
    using self = attention();
    using cross = crossAttention({ kdim: Ec });
    const weights = { selfAttention: self, norm1: n1, crossAttention: cross, norm2: n2, feedForward: ffnOf(82), norm3: n3 };
    using wide = Tensor.from(randoms(B * S * E, 31), [B, S, E]);
    using one = Tensor.from(randoms(S * Ec, 32), [1, S, Ec]);
    const live = memoryStats().liveBytes;
    expect(() => decoderLayer(x, wide, weights)).toThrow(/context must be \[B, L, 12\]/);
    expect(() => decoderLayer(x, one, weights)).toThrow(/batch\/length mismatch/);
    expect(memoryStats().liveBytes).toBe(live);
  });
});
