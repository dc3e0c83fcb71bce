// Views of WASM memory handed back to the library. Growing memory detaches every view of
// the old buffer, so a call that allocates before it reads a `tensor.data` view would read
// nothing (or throw, and leak what it had allocated). Each entry point that takes arrays is
// called here with such a view while an allocation inside it grows memory (after a squeeze
// of the free space, see helpers/memory.ts, an allocation of about 1 MiB must grow it).
import { describe, expect, it } from 'vitest';
import {
  KVCache, MultiHeadAttention, Tensor, applyRope, embedding, layerNorm, memoryStats, readSafetensors, rmsNorm,
  type TensorDType,
} from '../../ts/index.js';
import { randoms } from '../helpers/reference.js';
import { staleView, underGrowth } from '../helpers/memory.js';

/** Index of the first element where `a` and `b` differ (or their lengths), -1 when equal; quicker than toEqual on large arrays. */
function firstDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('views of WASM memory as inputs', () => {
  it('Tensor.from(x.data): a 1024×1024 tensor copied 8 times stays equal, memory grows, nothing leaks', () => {
    const start = memoryStats();
    const x = Tensor.from(randoms(1024 * 1024, 1), [1024, 1024]);
    const copies: Tensor[] = [];
    try {
      for (let i = 0; i < 8; i++) copies.push(Tensor.from(x.data, x.shape));
      expect(memoryStats().memoryBytes).toBeGreaterThan(start.memoryBytes);
      const want = x.toArray();
      for (const c of copies) expect(firstDiff(c.toArray(), want)).toBe(-1);
    } finally {
      for (const c of copies) c.dispose();
      x.dispose();
    }
    expect(memoryStats().liveBlocks).toBe(start.liveBlocks);
  });

  it('Tensor.from(view) when its own allocation grows memory: float32, float16 and raw bits', () => {
    const blocks = memoryStats().liveBlocks;
    using x = Tensor.from(randoms(512 * 512, 2), [512, 512]);
    using h = x.to('float16');
    const makes: (() => Tensor<TensorDType>)[] = [
      () => Tensor.from(x.data, x.shape),
      () => Tensor.from(x.data, x.shape, { dtype: 'float16' }),
      () => Tensor.from(h.data, h.shape, { dtype: 'float16' }),
    ];
    for (const make of makes) {
      const { value: t, grew } = underGrowth(make);
      try {
        expect(grew).toBe(true);
        expect(firstDiff(t.toArray(), t.dtype === 'float32' ? x.toArray() : h.toArray())).toBe(-1);
      } finally {
        t.dispose();
      }
    }
    expect(memoryStats().liveBlocks).toBe(blocks + 2);
  });

  it('a view made stale by growth is rejected by name, before anything is allocated', () => {
    using x = Tensor.from([1, 2, 3, 4], [2, 2]);
    const stale = staleView(x);
    const blocks = memoryStats().liveBlocks;
    expect(() => Tensor.from(stale, [2, 2])).toThrow(TypeError);
    expect(() => Tensor.from(stale, [2, 2])).toThrow(/Tensor.from: data is a view of a detached ArrayBuffer/);
    using y = Tensor.from([1, 2, 3, 4, 5, 6], [3, 2]);
    expect(() => layerNorm(y, stale, [0, 0])).toThrow(/layerNorm: gamma is a view of a detached ArrayBuffer/);
    expect(() => applyRope(y, { positions: stale })).toThrow(/applyRope: positions is a view of a detached/);
    expect(memoryStats().liveBlocks).toBe(blocks + 1);
    expect(Array.from(y.data)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('norms read gamma/beta views before allocating the output', () => {
    using x = Tensor.from(randoms(256 * 1024, 3), [256, 1024]);
    using g = Tensor.from(randoms(1024, 4), [1024]);
    using b = Tensor.from(randoms(1024, 5), [1024]);
    using wantLn = layerNorm(x, g, b);
    using wantRms = rmsNorm(x, g);
    const ln = underGrowth(() => layerNorm(x, g.data, b.data));
    const rms = underGrowth(() => rmsNorm(x, g.data));
    try {
      expect(ln.grew && rms.grew).toBe(true);
      expect(firstDiff(ln.value.toArray(), wantLn.toArray())).toBe(-1);
      expect(firstDiff(rms.value.toArray(), wantRms.toArray())).toBe(-1);
    } finally {
      ln.value.dispose();
      rms.value.dispose();
    }
  });

  it('embedding ids given as a view of WASM memory', () => {
    using table = Tensor.from(randoms(10 * 65536, 6), [10, 65536]);
    using ids = Tensor.from([3, 0, 9, 3]);
    using want = embedding(table, [3, 0, 9, 3]);
    const { value: got, grew } = underGrowth(() => embedding(table, ids.data));
    try {
      expect(grew).toBe(true);
      expect(firstDiff(got.toArray(), want.toArray())).toBe(-1);
    } finally {
      got.dispose();
    }
  });

  it('KVCache.append of tensors copied from views, and attend, across growth', () => {
    const n = 32768;
    using cache = new KVCache({ maxLength: n, numKvHeads: 2, headDim: 4 });
    using k = Tensor.from(randoms(2 * n * 4, 7), [2, n, 4]);
    using ref = new KVCache({ maxLength: n, numKvHeads: 2, headDim: 4 });
    ref.append(k, k);
    const { value: copy, grew } = underGrowth(() => Tensor.from(k.data, k.shape));
    using c = copy;
    expect(grew).toBe(true);
    cache.append(c, c);
    using q = Tensor.from(randoms(2 * 1 * 4, 8), [2, 1, 4]);
    using a = cache.attend(q);
    using b = ref.attend(q);
    expect(firstDiff(a.toArray(), b.toArray())).toBe(-1);
  });

  it('MultiHeadAttention.loadWeights takes the Tensors readSafetensors returns (a BERT loaded the obvious way)', () => {
    const E = 256, H = 4;
    const arrays = {
      inProjWeight: randoms(3 * E * E, 9), inProjBias: randoms(3 * E, 10),
      outProjWeight: randoms(E * E, 11), outProjBias: randoms(E, 12),
    };
    // A safetensors file of the four weights, as a converter would write them.
    const names = Object.keys(arrays) as (keyof typeof arrays)[];
    const header: Record<string, unknown> = {};
    let at = 0;
    for (const n of names) {
      header[n] = { dtype: 'F32', shape: [arrays[n].length], data_offsets: [at, at + arrays[n].length * 4] };
      at += arrays[n].length * 4;
    }
    let json = JSON.stringify(header);
    while (json.length % 8) json += ' ';
    const file = new Uint8Array(8 + json.length + at);
    new DataView(file.buffer).setUint32(0, json.length, true);
    file.set(new TextEncoder().encode(json), 8);
    let o = 8 + json.length;
    for (const n of names) { file.set(new Uint8Array(arrays[n].buffer), o); o += arrays[n].length * 4; }
    const st = readSafetensors(file);
    const ts = Object.fromEntries(names.map((n) => [n, st.tensor(n) as Tensor]));
    using x = Tensor.from(randoms(3 * E, 13), [3, E]);
    using want = new MultiHeadAttention({ embedDim: E, numHeads: H }).loadWeights(arrays);
    using mha = new MultiHeadAttention({ embedDim: E, numHeads: H });
    const blocks = memoryStats().liveBlocks;
    const { grew } = underGrowth(() => mha.loadWeights(ts as never));
    try {
      expect(grew).toBe(true);
      expect(memoryStats().liveBlocks).toBe(blocks + 4);
      using a = mha.forward(x), b = want.forward(x);
      expect(firstDiff(a.toArray(), b.toArray())).toBe(-1);
    } finally {
      for (const t of Object.values(ts)) t.dispose();
    }
  });
});
