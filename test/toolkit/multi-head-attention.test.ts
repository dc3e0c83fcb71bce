import { describe, expect, it } from 'vitest';
import { MultiHeadAttention, Tensor, memoryStats } from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { mha64 } from './helpers/reference-nn.js';

interface Case {
  B: number; L: number; S: number; E: number; H: number; Hkv?: number; kdim?: number; vdim?: number;
  bias?: boolean; packed?: boolean; cross?: boolean; unbatched?: boolean; seed?: number;
}

function setup(c: Case) {
  const { B, L, S, E, H } = c;
  const Hkv = c.Hkv ?? H, kdim = c.kdim ?? E, vdim = c.vdim ?? kdim, Ekv = Hkv * (E / H), seed = c.seed ?? 1;
  const p = {
    B, L, S, E, H, Hkv, kdim, vdim,
    x: randoms(B * L * E, seed), ctx: c.cross ? randoms(B * S * kdim, seed + 1) : undefined,
    val: c.cross ? randoms(B * S * vdim, seed + 2) : undefined,
    wq: randoms(E * E, seed + 3, -0.5, 0.5), wk: randoms(Ekv * kdim, seed + 4, -0.5, 0.5),
    wv: randoms(Ekv * vdim, seed + 5, -0.5, 0.5), wo: randoms(E * E, seed + 6, -0.5, 0.5),
    bq: undefined as Float32Array | undefined, bk: undefined as Float32Array | undefined,
    bv: undefined as Float32Array | undefined, bo: undefined as Float32Array | undefined,
  };
  const bias = c.bias ?? true;
  const inBias = randoms(E + 2 * Ekv, seed + 7);
  if (bias) {
    p.bq = inBias.subarray(0, E);
    p.bk = inBias.subarray(E, E + Ekv);
    p.bv = inBias.subarray(E + Ekv);
    p.bo = randoms(E, seed + 8);
  }
  const mha = new MultiHeadAttention({ embedDim: E, numHeads: H, numKvHeads: c.Hkv, kdim: c.kdim, vdim: c.vdim, bias });
  const inProjWeight = new Float32Array([...p.wq, ...p.wk, ...p.wv]);
  mha.loadWeights({
    ...(c.packed ? { inProjWeight } : { qProjWeight: p.wq, kProjWeight: p.wk, vProjWeight: p.wv }),
    inProjBias: bias ? inBias : undefined, outProjWeight: p.wo, outProjBias: p.bo,
  });
  const shape = (len: number, w: number) => (c.unbatched ? [len, w] : [B, len, w]);
  const x = Tensor.from(p.x, shape(L, E));
  const ctx = p.ctx ? Tensor.from(p.ctx, shape(S, kdim)) : undefined;
  const val = p.val ? Tensor.from(p.val, shape(S, vdim)) : undefined;
  return { p, mha, x, ctx, val, release: () => { mha.dispose(); x.dispose(); ctx?.dispose(); val?.dispose(); } };
}

describe('MultiHeadAttention against a float64 PyTorch-formula reference', () => {
  it('self-attention, packed in_proj_weight, bias, batched; averaged and per-head weights', () => {
    const s = setup({ B: 2, L: 7, S: 7, E: 12, H: 3, packed: true });
    try {
      const ref = mha64(s.p);
      const { out, weights } = s.mha.forward(s.x, { needWeights: true });
      expect(out.shape).toEqual([2, 7, 12]);
      expect(weights.shape).toEqual([2, 7, 7]);
      expectClose(out.data, ref.out, 'out', 2e-5, 2e-4);
      const avg = new Float64Array(2 * 7 * 7);
      for (let b = 0; b < 2; b++) for (let h = 0; h < 3; h++) for (let e = 0; e < 49; e++) avg[b * 49 + e] += ref.weights[(b * 3 + h) * 49 + e]! / 3;
      expectClose(weights.data, avg, 'averaged weights', 1e-6, 1e-4);
      out.dispose();
      weights.dispose();
      const per = s.mha.forward(s.x, { needWeights: true, averageWeights: false });
      expect(per.weights.shape).toEqual([2, 3, 7, 7]);
      expectClose(per.weights.data, ref.weights, 'per-head weights', 1e-6, 1e-4);
      per.out.dispose();
      per.weights.dispose();
    } finally {
      s.release();
    }
  });

  it('separate weights equal the packed ones; causal self-attention', () => {
    for (const packed of [true, false]) {
      const s = setup({ B: 1, L: 9, S: 9, E: 16, H: 4, packed, seed: 11 });
      try {
        using out = s.mha.forward(s.x, { causal: true });
        expectClose(out.data, mha64({ ...s.p, causal: true }).out, `causal packed=${packed}`, 2e-5, 2e-4);
      } finally {
        s.release();
      }
    }
  });

  it('cross-attention with kdim ≠ vdim ≠ embedDim, S ≠ L, no bias', () => {
    const s = setup({ B: 2, L: 5, S: 11, E: 8, H: 2, kdim: 6, vdim: 10, cross: true, bias: false, seed: 21 });
    try {
      using out = s.mha.forward(s.x, { context: s.ctx, value: s.val });
      expect(out.shape).toEqual([2, 5, 8]);
      expectClose(out.data, mha64(s.p).out, 'cross', 2e-5, 2e-4);
    } finally {
      s.release();
    }
  });

  it('grouped-query (H=4, H_kv=2) and multi-query (H_kv=1) heads', () => {
    for (const Hkv of [2, 1]) {
      const s = setup({ B: 2, L: 6, S: 6, E: 16, H: 4, Hkv, seed: 31 + Hkv });
      try {
        using out = s.mha.forward(s.x, { causal: true });
        expectClose(out.data, mha64({ ...s.p, causal: true }).out, `Hkv=${Hkv}`, 2e-5, 2e-4);
      } finally {
        s.release();
      }
    }
  });

  it('key padding mask (true = ignore) combined with a boolean mask, and alone', () => {
    const s = setup({ B: 2, L: 4, S: 6, E: 8, H: 2, cross: true, kdim: 8, vdim: 8, seed: 41 });
    try {
      const pad = [false, false, false, false, true, true, false, true, false, false, false, false];
      // attend[i][j]: the library's boolean convention, true = may attend.
      const attend = Array.from({ length: 4 * 6 }, (_, e) => (e % 5) !== 2);
      const maskAt = (_b: number, _h: number, i: number, j: number) => (attend[i * 6 + j] ? 0 : -Infinity);
      using out = s.mha.forward(s.x, { context: s.ctx, value: s.val, keyPaddingMask: pad, mask: { attend, shape: [4, 6] } });
      expectClose(out.data, mha64({ ...s.p, pad, mask: maskAt }).out, 'pad + mask', 2e-5, 2e-4);
      const { out: o2, weights } = s.mha.forward(s.x, { context: s.ctx, value: s.val, keyPaddingMask: pad, needWeights: true, averageWeights: false });
      const ref = mha64({ ...s.p, pad });
      expectClose(o2.data, ref.out, 'pad only', 2e-5, 2e-4);
      expectClose(weights.data, ref.weights, 'pad weights', 1e-6, 1e-4);
      // Padded keys get exactly zero weight.
      for (let h = 0; h < 2; h++) for (let i = 0; i < 4; i++) expect(weights.data[((0 * 2 + h) * 4 + i) * 6 + 4]).toBe(0);
      o2.dispose();
      weights.dispose();
    } finally {
      s.release();
    }
  });

  it('per-head additive mask tensor and unbatched input', () => {
    const s = setup({ B: 1, L: 5, S: 5, E: 8, H: 2, unbatched: true, packed: true, seed: 51 });
    try {
      const md = randoms(2 * 5 * 5, 52, -2, 2);
      using mask = Tensor.from(md, [2, 5, 5]);
      const { out, weights } = s.mha.forward(s.x, { mask, needWeights: true, averageWeights: false, keyPaddingMask: [0, 0, 1, 0, 0] });
      expect(out.shape).toEqual([5, 8]);
      expect(weights.shape).toEqual([2, 5, 5]);
      const pad = [0, 0, 1, 0, 0];
      const ref = mha64({ ...s.p, pad, mask: (_b, h, i, j) => md[(h * 5 + i) * 5 + j]! });
      expectClose(out.data, ref.out, 'out', 2e-5, 2e-4);
      expectClose(weights.data, ref.weights, 'weights', 1e-6, 1e-4);
      out.dispose();
      weights.dispose();
    } finally {
      s.release();
    }
  });

  it('rejects bad configurations and inputs with clear errors', () => {
    expect(() => new MultiHeadAttention({ embedDim: 10, numHeads: 3 })).toThrow(/multiple of numHeads/);
    expect(() => new MultiHeadAttention({ embedDim: 8, numHeads: 4, numKvHeads: 3 })).toThrow(RangeError);
    using m = new MultiHeadAttention({ embedDim: 4, numHeads: 2 });
    using x = Tensor.zeros([3, 4]);
    expect(() => m.forward(x)).toThrow(/loadWeights/);
    expect(() => m.loadWeights({ inProjWeight: new Float32Array(47), inProjBias: new Float32Array(12), outProjWeight: new Float32Array(16), outProjBias: new Float32Array(4) }))
      .toThrow(/inProjWeight \[12, 4\] has 47 values, expected 48/);
    expect(() => m.loadWeights({ inProjWeight: new Float32Array(48), outProjWeight: new Float32Array(16) })).toThrow(TypeError);
    m.loadWeights({ inProjWeight: new Float32Array(48), inProjBias: new Float32Array(12), outProjWeight: new Float32Array(16), outProjBias: new Float32Array(4) });
    using bad = Tensor.zeros([3, 5]);
    expect(() => m.forward(bad)).toThrow(/x must be \[B, L, 4\] or \[L, 4\].*\[3, 5\]/);
    expect(() => m.forward(x, { keyPaddingMask: [true] })).toThrow(/keyPaddingMask needs 3 flags/);
    const cross = new MultiHeadAttention({ embedDim: 4, numHeads: 2, kdim: 3 });
    expect(() => cross.loadWeights({ inProjWeight: new Float32Array(40), outProjWeight: new Float32Array(16) })).toThrow(/kdim = vdim = embedDim/);
  });

  it('dispose frees the weights', () => {
    const before = memoryStats().liveBlocks;
    const m = new MultiHeadAttention({ embedDim: 4, numHeads: 1 });
    m.loadWeights({ inProjWeight: new Float32Array(48), inProjBias: new Float32Array(12), outProjWeight: new Float32Array(16), outProjBias: new Float32Array(4) });
    expect(memoryStats().liveBlocks).toBe(before + 4);
    m.dispose();
    expect(memoryStats().liveBlocks).toBe(before);
    expect(m.loaded).toBe(false);
  });
});
