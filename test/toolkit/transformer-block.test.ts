// encoderLayer on the models' transformer block (ts/toolkit/block.ts) against the same layer
// composed from the toolkit's ops (MultiHeadAttention.forward, add, layerNorm, feedForward),
// which the float64 references in transformer.test.ts and transformer-pieces.test.ts check on
// their own; and the layers the block does not cover, which keep the composition.
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  MultiHeadAttention, Tensor, add, encoderLayer, feedForward, layerNorm, memoryStats, type FeedForwardWeights,
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
