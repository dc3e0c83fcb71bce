// The pieces GPT-2 and LLaMA-family models need, each against a float64 reference:
// tanh-GELU and SiLU, the gated feed-forward, pre-norm layers, embedding lookup,
// permute/transpose, softmax over any axis, broadcasting matmul, RoPE from given
// tables and the rotary option of MultiHeadAttention.
import { describe, expect, it } from 'vitest';
import {
  MultiHeadAttention, Tensor, applyActivation, applyRope, embedding, encoderLayer, decoderLayer, gatedFeedForward, geluTanh,
  matmul, permute, ropeTables, silu, softmax, transpose,
} from '../../ts/index.js';
import { matmul64, randoms, softmaxRow64 } from '../helpers/reference.js';
import { expectClose } from '../helpers/expect-close.js';
import { ffn64, gatedFfn64, geluTanh64, mha64, norm64, relu64, rope64, silu64 } from './helpers/reference-nn.js';

describe('activations', () => {
  it("'gelu_tanh' and 'silu' against float64, in place; scalar forms", () => {
    const xd = randoms(300, 1, -9, 9);
    using x = Tensor.from(xd, [300]);
    applyActivation(x, 'gelu_tanh');
    expectClose(x.data, Array.from(xd, geluTanh64), 'gelu_tanh', 1e-7, 1e-6);
    using y = Tensor.from(xd, [300]);
    applyActivation(y, 'silu');
    expectClose(y.data, Array.from(xd, silu64), 'silu', 1e-7, 1e-6);
    // Values from PyTorch: F.gelu(torch.tensor(1.0, dtype=float64), approximate='tanh'), F.silu(1.0).
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 12);
    expect(silu(1)).toBeCloseTo(0.7310585786300049, 12);
    expect(silu(-1000)).toBe(-0);
    expect(Number.isNaN(silu(NaN)) && Number.isNaN(geluTanh(NaN))).toBe(true);
    expect(() => applyActivation(y, 'swish' as never)).toThrow(/activation must be one of 'relu', 'gelu', 'gelu_tanh', 'silu', got swish/);
  });
});

describe('gated feed-forward', () => {
  it('SwiGLU and GeGLU, tensor and array weights, with biases', () => {
    const [R, E, F] = [7, 12, 20];
    const xd = randoms(R * E, 2), g = randoms(F * E, 3, -0.5, 0.5), u = randoms(F * E, 4, -0.5, 0.5), d = randoms(E * F, 5, -0.5, 0.5);
    using x = Tensor.from(xd, [R, E]);
    using gate = Tensor.from(g, [F, E]);
    using y = gatedFeedForward(x, { gate, up: u, down: d });
    expect(y.shape).toEqual([R, E]);
    expectClose(y.data, gatedFfn64(xd, R, E, F, g, u, d, silu64), 'SwiGLU', 1e-5, 1e-4);
    const gb = randoms(F, 6), ub = randoms(F, 7), db = randoms(E, 8);
    using z = gatedFeedForward(x, { gate: g, up: u, down: d, gateBias: gb, upBias: ub, downBias: db, activation: 'gelu_tanh' });
    const want = gatedFfn64(xd, R, E, F, g, u, d, geluTanh64);
    // Biases: recompute with them folded in (gate(x) + b_g etc.).
    const gx = matmul64(xd, g, R, E, F, { transB: true }).map((v, i) => geluTanh64(v + gb[i % F]!));
    const ux = matmul64(xd, u, R, E, F, { transB: true }).map((v, i) => v + ub[i % F]!);
    const wantB = matmul64(gx.map((v, i) => v * ux[i]!), d, R, F, E, { transB: true }).map((v, i) => v + db[i % E]!);
    expect(want.length).toBe(wantB.length);
    expectClose(z.data, wantB, 'GeGLU with biases', 1e-5, 1e-4);
    expect(() => gatedFeedForward(x, { gate, up: u.subarray(1), down: d })).toThrow(/up \[20, 12\] has 239 values, expected 240/);
    using bad = Tensor.zeros([E, F]);
    expect(() => gatedFeedForward(x, { gate, up: gate, down: gate })).toThrow(/down must be \[12, 20\], got \[20, 12\]/);
    expect(bad.disposed).toBe(false);
  });
});

function attention(E: number, H: number, seed: number) {
  const ref = {
    wq: randoms(E * E, seed, -0.4, 0.4), wk: randoms(E * E, seed + 1, -0.4, 0.4), wv: randoms(E * E, seed + 2, -0.4, 0.4),
    wo: randoms(E * E, seed + 3, -0.4, 0.4), bq: randoms(E, seed + 4), bk: randoms(E, seed + 5), bv: randoms(E, seed + 6),
    bo: randoms(E, seed + 7),
  };
  const mha = new MultiHeadAttention({ embedDim: E, numHeads: H }).loadWeights({
    inProjWeight: new Float32Array([...ref.wq, ...ref.wk, ...ref.wv]), outProjWeight: ref.wo,
    inProjBias: new Float32Array([...ref.bq, ...ref.bk, ...ref.bv]), outProjBias: ref.bo,
  });
  return { mha, ref };
}
const norm = (E: number, seed: number) => ({ gamma: randoms(E, seed, 0.5, 1.5), beta: randoms(E, seed + 1) });
const plus = (a: ArrayLike<number>, b: ArrayLike<number>) => Float64Array.from(a, (v, i) => v + b[i]!);

describe('pre-norm layers (normFirst, PyTorch norm_first=True)', () => {
  it('encoderLayer: h = x + MHA(LN₁(x)), out = h + FFN(LN₂(h)), causal', () => {
    const [B, L, E, H, F] = [2, 5, 8, 2, 16];
    const xd = randoms(B * L * E, 20);
    const att = attention(E, H, 30);
    const n1 = norm(E, 40), n2 = norm(E, 42);
    const ff = { w1: randoms(F * E, 44, -0.4, 0.4), b1: randoms(F, 45), w2: randoms(E * F, 46, -0.4, 0.4), b2: randoms(E, 47), F };
    using x = Tensor.from(xd, [B, L, E]);
    try {
      using y = encoderLayer(x, { selfAttention: att.mha, norm1: n1, norm2: n2, feedForward: ff, normFirst: true }, { causal: true });
      const ln1 = norm64(xd, E, n1.gamma, n1.beta, 1e-5);
      const h = plus(xd, mha64({ B, L, S: L, E, H, x: ln1, ...att.ref, causal: true }).out);
      const want = plus(h, ffn64(norm64(h, E, n2.gamma, n2.beta, 1e-5), B * L, E, ff, relu64));
      expectClose(y.data, want, 'pre-norm encoder layer', 5e-5, 5e-4);
      expectClose(x.data, xd, 'input untouched', 0, 0);
    } finally {
      att.mha.dispose();
    }
  });

  it('decoderLayer: three pre-norm residual blocks, memory not normalised', () => {
    const [B, L, S, E, H, F] = [1, 4, 6, 8, 2, 12];
    const xd = randoms(B * L * E, 60), md = randoms(B * S * E, 61);
    const self = attention(E, H, 70), cross = attention(E, H, 80);
    const n1 = norm(E, 90), n2 = norm(E, 92), n3 = norm(E, 94);
    const ff = { w1: randoms(F * E, 96, -0.4, 0.4), w2: randoms(E * F, 98, -0.4, 0.4), F };
    using x = Tensor.from(xd, [B, L, E]);
    using memory = Tensor.from(md, [B, S, E]);
    try {
      using y = decoderLayer(x, memory, {
        selfAttention: self.mha, norm1: n1, crossAttention: cross.mha, norm2: n2, feedForward: ff, norm3: n3, normFirst: true, eps: 1e-3,
      });
      const h1 = plus(xd, mha64({ B, L, S: L, E, H, x: norm64(xd, E, n1.gamma, n1.beta, 1e-3), ...self.ref, causal: true }).out);
      const h2 = plus(h1, mha64({ B, L, S, E, H, x: norm64(h1, E, n2.gamma, n2.beta, 1e-3), ctx: md, ...cross.ref }).out);
      const want = plus(h2, ffn64(norm64(h2, E, n3.gamma, n3.beta, 1e-3), B * L, E, ff, relu64));
      expectClose(y.data, want, 'pre-norm decoder layer', 5e-5, 5e-4);
    } finally {
      self.mha.dispose();
      cross.mha.dispose();
    }
  });
});

describe('embedding lookup', () => {
  it('rows by id, shaped output, errors for bad ids', () => {
    const [V, E] = [11, 5];
    const td = randoms(V * E, 9);
    using table = Tensor.from(td, [V, E]);
    const ids = [3, 0, 10, 3, 7, 1];
    using y = embedding(table, ids, { shape: [2, 3] });
    expect(y.shape).toEqual([2, 3, E]);
    const want = ids.flatMap((id) => Array.from(td.subarray(id * E, (id + 1) * E)));
    expect(Array.from(y.data)).toEqual(want);
    using bt = table.to('bfloat16');
    using by = embedding(bt, ids);
    expect(by.dtype).toBe('bfloat16');
    using btRows = embedding(table, ids);
    using want16 = btRows.to('bfloat16');
    expect(Array.from(by.data)).toEqual(Array.from(want16.data));
    using one = embedding(table, new Int32Array([10]));
    expect(one.shape).toEqual([1, E]);
    expect(() => embedding(table, [1, 11])).toThrow(/ids\[1\] = 11 is not a row of the table \[11, 5\] \(ids are integers in \[0, 11\)\)/);
    expect(() => embedding(table, [-1])).toThrow(/ids\[0\] = -1/);
    expect(() => embedding(table, [1.5])).toThrow(/ids\[0\] = 1.5/);
    expect(() => embedding(table, [1, 2], { shape: [3] })).toThrow(/2 ids do not fill the shape \[3\]/);
    using flat = Tensor.zeros([4]);
    expect(() => embedding(flat, [0])).toThrow(/table must be \[V, E\], got \[4\]/);
  });
});

describe('permute and transpose', () => {
  it('every permutation of a [2, 3, 4, 5] tensor against index arithmetic', () => {
    const shape = [2, 3, 4, 5];
    const xd = randoms(120, 10);
    using x = Tensor.from(xd, shape);
    const perms = permutations([0, 1, 2, 3]);
    for (const p of perms) {
      using y = permute(x, p);
      const ys = p.map((d) => shape[d]!);
      expect(y.shape).toEqual(ys);
      const got = y.data;
      const idx = [0, 0, 0, 0];
      for (let o = 0; o < 120; o++) {
        let r = o;
        for (let a = 3; a >= 0; a--) { idx[p[a]!] = r % ys[a]!; r = Math.floor(r / ys[a]!); }
        const src = ((idx[0]! * 3 + idx[1]!) * 4 + idx[2]!) * 5 + idx[3]!;
        if (got[o] !== xd[src]) throw new Error(`perm [${p}] at ${o}: got ${got[o]}, want ${xd[src]}`);
      }
    }
    // 16-bit storage: bits move unchanged.
    using h = Tensor.from(xd, shape, { dtype: 'float16' });
    using hp = permute(h, [3, 1, 0, 2]);
    using fp = permute(x, [3, 1, 0, 2]);
    expect(hp.dtype).toBe('float16');
    using fpHalf = fp.to('float16');
    expect(Array.from(hp.data)).toEqual(Array.from(fpHalf.data));
    using t = transpose(x, -1, 1);
    using viaPermute = permute(x, [0, 3, 2, 1]);
    expect(Array.from(t.data)).toEqual(Array.from(viaPermute.data));
    expect(() => permute(x, [0, 1, 2])).toThrow(/dims must list all 4 axes/);
    expect(() => permute(x, [0, 1, 1, 2])).toThrow(/repeat an axis/);
    expect(() => transpose(x, 0, 4)).toThrow(/dim1 number 4 is not an axis of a rank-4 tensor/);
  });
});

function permutations(a: number[]): number[][] {
  if (a.length <= 1) return [a];
  return a.flatMap((v, i) => permutations([...a.slice(0, i), ...a.slice(i + 1)]).map((p) => [v, ...p]));
}

describe('softmax over any axis', () => {
  it('each axis of [3, 4, 5] (negative too), out and in place, against float64', () => {
    const shape = [3, 4, 5];
    const xd = randoms(60, 11, -4, 4);
    for (const axis of [0, 1, 2, -3, -2]) {
      const a = axis < 0 ? axis + 3 : axis;
      const want = new Float64Array(60);
      const stride = [20, 5, 1][a]!, n = shape[a]!;
      for (let s = 0; s < 60; s++) {
        if (Math.floor(s / stride) % n !== 0) continue; // s is the first element of a slice
        const row = Array.from({ length: n }, (_, j) => xd[s + j * stride]!);
        softmaxRow64(row).forEach((v, j) => { want[s + j * stride] = v; });
      }
      using x = Tensor.from(xd, shape);
      using y = softmax(x, { axis });
      expectClose(y.data, want, `softmax axis ${axis}`, 1e-6, 1e-5);
      softmax(x, { axis, out: x });
      expectClose(x.data, want, `softmax axis ${axis} in place`, 1e-6, 1e-5);
    }
    using x = Tensor.from(xd, shape);
    expect(() => softmax(x, { axis: 3 })).toThrow(/axis number 3 is not an axis of a rank-3 tensor/);
    expect(() => softmax(x, { axis: 0, mask: x })).toThrow(/a mask needs the last axis/);
  });
});

describe('broadcasting matmul', () => {
  const cases: [number[], number[], boolean, number[]][] = [
    [[2, 1, 3, 4], [1, 3, 4, 5], false, [2, 3, 3, 5]],
    [[3, 4], [2, 3, 4, 5], false, [2, 3, 3, 5]],
    [[3, 4], [2, 5, 4], true, [2, 3, 5]],
    [[2, 3, 4], [4, 5], false, [2, 3, 5]],
    [[1, 3, 4], [2, 4, 5], false, [2, 3, 5]],
    [[2, 1, 3, 4], [3, 5, 4], true, [2, 3, 3, 5]],
  ];
  it.each(cases)('%j · %j (transposeB %s) → %j', (as, bs, transB, outShape) => {
    const [m, k] = as.slice(-2) as [number, number];
    const n = transB ? bs[bs.length - 2]! : bs[bs.length - 1]!;
    const ad = randoms(as.reduce((p, d) => p * d, 1), 12), bd = randoms(bs.reduce((p, d) => p * d, 1), 13);
    using a = Tensor.from(ad, as);
    using b = Tensor.from(bd, bs);
    using c = matmul(a, b, { transposeB: transB });
    expect(c.shape).toEqual(outShape);
    // Reference: index each output batch back into a and b by NumPy broadcasting.
    const batch = outShape.slice(0, -2), aB = as.slice(0, -2), bB = bs.slice(0, -2);
    const count = batch.reduce((p, d) => p * d, 1);
    const want = new Float64Array(count * m * n);
    for (let i = 0; i < count; i++) {
      const idx: number[] = [];
      for (let r = i, d = batch.length - 1; d >= 0; d--) { idx[d] = r % batch[d]!; r = Math.floor(r / batch[d]!); }
      const flat = (own: number[]) => own.reduce((f, size, j) => f * size + (size === 1 ? 0 : idx[batch.length - own.length + j]!), 0);
      const am = ad.subarray(flat(aB) * m * k, (flat(aB) + 1) * m * k), bm = bd.subarray(flat(bB) * k * n, (flat(bB) + 1) * k * n);
      want.set(matmul64(am, bm, m, k, n, { transB }), i * m * n);
    }
    expectClose(c.data, want, 'broadcast matmul', 1e-5, 1e-4);
  });
  it('rejects batch axes that do not broadcast', () => {
    using a = Tensor.zeros([2, 3, 4]);
    using b = Tensor.zeros([3, 4, 5]);
    expect(() => matmul(a, b)).toThrow(/batch sizes do not broadcast: a \[2, 3, 4\] and b \[3, 4, 5\] \(batch axis -1 has 2 and 3\)/);
  });
});

describe('RoPE from cos/sin tables and inside MultiHeadAttention', () => {
  it('tables of a linearly scaled RoPE equal the rotation at scaled positions', () => {
    const [L, H, D] = [6, 2, 8];
    const xd = randoms(L * H * D, 14);
    const positions = [0, 3, 4, 5, 9, 12];
    // Linear position scaling by 4: angle (p/4)·θ_i, as tables indexed by the integer p.
    const theta = Array.from({ length: D / 2 }, (_, i) => 10000 ** (-(2 * i) / D) / 4);
    const { cos, sin } = ropeTables(16, D, { invFreq: theta });
    for (const style of ['half', 'interleaved'] as const) {
      using x = Tensor.from(xd, [L, H * D]);
      applyRope(x, { cos, sin, positions, headDim: D, style });
      expectClose(x.data, rope64(xd, L, H * D, D, positions.map((p) => p / 4), style), `tables ${style}`, 1e-6, 1e-5);
    }
    using ct = Tensor.from(cos, [16, D / 2]);
    using st = Tensor.from(sin, [16, D / 2]);
    using y = Tensor.from(xd, [L, H * D]);
    applyRope(y, { cos: ct, sin: st, offset: 10, headDim: D });
    expectClose(y.data, rope64(xd, L, H * D, D, [10, 11, 12, 13, 14, 15].map((p) => p / 4), 'half'), 'tensor tables', 1e-6, 1e-5);
    expect(() => applyRope(y, { cos: ct, sin: st, offset: 11, headDim: D })).toThrow(/position 16 \(row 5\) is not a row of the 16-row cos\/sin tables/);
    expect(() => applyRope(y, { cos: ct, headDim: D })).toThrow(/give both cos and sin tables \(sin is missing\)/);
    expect(() => applyRope(y, { cos, sin: sin.subarray(4), headDim: D })).toThrow(/cos and sin tables differ in size/);
  });

  it('rotary option: RoPE between the projections and attention, grouped heads, causal', () => {
    const [B, L, E, H, Hkv] = [2, 5, 16, 4, 2];
    const Ekv = (E / H) * Hkv;
    const xd = randoms(B * L * E, 15);
    const ref = {
      wq: randoms(E * E, 51, -0.4, 0.4), wk: randoms(Ekv * E, 52, -0.4, 0.4), wv: randoms(Ekv * E, 53, -0.4, 0.4),
      wo: randoms(E * E, 54, -0.4, 0.4), bq: randoms(E, 55), bk: randoms(Ekv, 56), bv: randoms(Ekv, 57), bo: randoms(E, 58),
    };
    using mha = new MultiHeadAttention({ embedDim: E, numHeads: H, numKvHeads: Hkv }).loadWeights({
      inProjWeight: new Float32Array([...ref.wq, ...ref.wk, ...ref.wv]), outProjWeight: ref.wo,
      inProjBias: new Float32Array([...ref.bq, ...ref.bk, ...ref.bv]), outProjBias: ref.bo,
    });
    using x = Tensor.from(xd, [B, L, E]);
    using y = mha.forward(x, { causal: true, rotary: { offset: 3, base: 500 } });
    const want = mha64({ B, L, S: L, E, H, Hkv, x: xd, ...ref, causal: true, rope: { positions: [3, 4, 5, 6, 7], base: 500 } }).out;
    expectClose(y.data, want, 'MHA with RoPE', 5e-5, 5e-4);
    using plain = mha.forward(x, { causal: true });
    expect(Math.max(...Array.from(plain.data, (v, i) => Math.abs(v - y.data[i]!)))).toBeGreaterThan(1e-3);
    using ctx = Tensor.from(xd, [B, L, E]);
    expect(() => mha.forward(x, { context: ctx, rotary: {} })).toThrow(/rotary applies to self-attention only/);
  });
});

describe('MultiHeadAttention add_bias_kv / add_zero_attn (PyTorch semantics)', () => {
  it.each([
    [true, true, 4], [true, false, 4], [false, true, 2], [true, true, 2],
  ])('addBiasKv %s, addZeroAttn %s, %i KV heads: outputs and per-head weights against float64', (biasKv, zero, Hkv) => {
    const [B, L, S, E, H] = [2, 4, 5, 16, 4];
    const Ekv = (E / H) * Hkv;
    const xd = randoms(B * L * E, 60), cd = randoms(B * S * E, 61);
    const ref = {
      wq: randoms(E * E, 62, -0.4, 0.4), wk: randoms(Ekv * E, 63, -0.4, 0.4), wv: randoms(Ekv * E, 64, -0.4, 0.4),
      wo: randoms(E * E, 65, -0.4, 0.4), bq: randoms(E, 66), bk: randoms(Ekv, 67), bv: randoms(Ekv, 68), bo: randoms(E, 69),
    };
    const biasK = randoms(Ekv, 70), biasV = randoms(Ekv, 71);
    using mha = new MultiHeadAttention({ embedDim: E, numHeads: H, numKvHeads: Hkv, addBiasKv: biasKv, addZeroAttn: zero })
      .loadWeights({
        qProjWeight: ref.wq, kProjWeight: ref.wk, vProjWeight: ref.wv, outProjWeight: ref.wo,
        inProjBias: new Float32Array([...ref.bq, ...ref.bk, ...ref.bv]), outProjBias: ref.bo,
        ...(biasKv ? { biasK, biasV } : {}),
      });
    using x = Tensor.from(xd, [B, L, E]);
    using ctx = Tensor.from(cd, [B, S, E]);
    const pad = Array.from({ length: B * S }, (_, i) => i === 3 || i === 9);
    const maskd = randoms(L * S, 72, -2, 0);
    using mask = Tensor.from(maskd, [L, S]);
    const extra = (biasKv ? 1 : 0) + (zero ? 1 : 0);
    const r = mha.forward(x, { context: ctx, mask, keyPaddingMask: pad, needWeights: true, averageWeights: false });
    try {
      expect(r.weights.shape).toEqual([B, H, L, S + extra]);
      const want = mha64({
        B, L, S, E, H, Hkv, x: xd, ctx: cd, ...ref, pad, mask: (_b, _h, i, j) => maskd[i * S + j]!,
        ...(biasKv ? { biasK, biasV } : {}), zeroAttn: zero,
      });
      expectClose(r.out.data, want.out, 'output', 5e-5, 5e-4);
      expectClose(r.weights.data, want.weights, 'weights', 1e-5, 1e-4);
      // Self-attention, no mask: the extra rows still take part.
      using self = mha.forward(x);
      const wantSelf = mha64({ B, L, S: L, E, H, Hkv, x: xd, ...ref, ...(biasKv ? { biasK, biasV } : {}), zeroAttn: zero });
      expectClose(self.data, wantSelf.out, 'self-attention', 5e-5, 5e-4);
      expect(() => mha.forward(x, { causal: true })).toThrow(/causal with addBiasKv\/addZeroAttn is ambiguous/);
    } finally {
      r.out.dispose();
      r.weights.dispose();
    }
  });

  it('needs biasK/biasV with addBiasKv and refuses them without', () => {
    const E = 8;
    const w = { qProjWeight: randoms(E * E, 1), kProjWeight: randoms(E * E, 2), vProjWeight: randoms(E * E, 3), outProjWeight: randoms(E * E, 4) };
    using a = new MultiHeadAttention({ embedDim: E, numHeads: 2, bias: false, addBiasKv: true });
    expect(() => a.loadWeights(w)).toThrow(/biasK \[8\] must be a Tensor or an array of numbers/);
    using b = new MultiHeadAttention({ embedDim: E, numHeads: 2, bias: false });
    expect(() => b.loadWeights({ ...w, biasK: randoms(E, 5), biasV: randoms(E, 6) })).toThrow(/built without addBiasKv/);
  });
});
