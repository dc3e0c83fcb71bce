import { describe, expect, it } from 'vitest';
import { Tensor, Weight, initInfo, linear, matmul, memoryStats, type WeightFormat } from '../ts/index.js';
import { linear64, matmul64, quantize64, randoms } from './helpers/reference.js';

const FORMATS: WeightFormat[] =
  ['float32', 'float16', 'bfloat16', 'int8', 'int4', 'float32-panels', 'int8-panels', 'int4-panels'];
// k = 2113: 67 blocks, the last holding one value; n = 9: three four-row tiles of three rows each.
const SHAPES: [number, number][] = [[1, 1], [31, 5], [32, 17], [33, 33], [65, 7], [100, 64], [2113, 9]];

/** The weight values each format stands for, independently of the kernels. */
function weightValues(format: WeightFormat, data: Float32Array, n: number, k: number): Float64Array {
  if (format === 'int8' || format === 'int8-panels') return quantize64('q8_0', data, n, k);
  if (format === 'int4' || format === 'int4-panels') return quantize64('q4_0', data, n, k);
  if (format === 'float32' || format === 'float32-panels') return Float64Array.from(data);
  using t = Tensor.from(data, [n, k], { dtype: format });
  return Float64Array.from(t.toArray());
}

/**
 * The activation-rounding bound's factor: 1 for the int8 codes of the SIMD128 GEMMs; the
 * relaxed-SIMD build's q8_0-panels tile rounds activations to 7 bits (max|x|/126, not /254).
 */
function activationFactor(format: WeightFormat): number {
  return format === 'int8-panels' && initInfo()!.build === 'relaxed-simd' ? 254 / 126 : 1;
}

/** Asserts |got − want| ≤ bound elementwise, naming the worst element. */
function expectWithin(got: ArrayLike<number>, want: ArrayLike<number>, bound: ArrayLike<number>, what: string): void {
  let worst = 0, at = -1;
  for (let i = 0; i < want.length; i++) {
    const r = Math.abs(got[i]! - want[i]!) / bound[i]!;
    if (!(r <= worst)) { worst = r; at = i; }
  }
  expect(worst, `${what}: worst at ${at}: got ${got[at]}, want ${want[at]}, bound ${bound[at]}`).toBeLessThanOrEqual(1);
}

describe('linear against a float64 reference', () => {
  for (const format of FORMATS) {
    it(`${format}: m = 1..17, awkward k and n, with and without bias`, () => {
      const before = memoryStats().liveBlocks;
      for (const [k, n] of SHAPES) {
        const wd = randoms(n * k, k * 31 + n, -0.5, 0.5);
        using w = Weight.from({ data: wd, shape: [n, k] }, { format });
        expect(w.shape).toEqual([n, k]);
        expect(w.format).toBe(format);
        const wv = weightValues(format, wd, n, k);
        const bd = randoms(n, n + 5);
        using bias = Tensor.from(bd, [n]);
        for (const m of [1, 2, 3, 5, 8, 15, 16, 17]) {
          const xd = randoms(m * k, m * 1000 + k, -2, 2);
          using x = Tensor.from(xd, [m, k]);
          const withBias = (m + k) % 2 === 0;
          using y = linear(x, w, withBias ? { bias } : {});
          expect(y.shape).toEqual([m, n]);
          const ref = linear64(xd, wv, m, k, n, withBias ? bd : undefined);
          const quant = format === 'int8' || format === 'int4' || format === 'int8-panels' || format === 'int4-panels';
          // Float formats: float32 rounding of k products; block formats add the
          // activation-quantisation bound Σ max|x_block|/254 · Σ|w_block|.
          const qf = activationFactor(format) * (1 + 1e-6);
          const bound = ref.mag.map((a, i) => (quant ? ref.qbound[i]! * qf : 0) + (k + 4) * 1.2e-7 * a + 1e-30);
          expectWithin(y.data, ref.y, bound, `${format} m=${m} k=${k} n=${n}`);
        }
      }
      expect(memoryStats().liveBlocks).toBe(before);
    });
  }

  it('int8/int4 on many rows: the integer GEMM keeps the activation-quantisation bound', () => {
    const before = memoryStats().liveBlocks;
    // n past the GEMM's 128-row column blocks with a partial last sliver; m past 4-row tiles.
    for (const [m, k, n] of [[3, 40, 9], [24, 40, 9], [70, 600, 2000]] as const) {
      for (const format of ['int8', 'int4', 'int8-panels', 'int4-panels'] as const) {
        const wd = randoms(n * k, n + k, -0.5, 0.5), xd = randoms(m * k, m + k, -2, 2), bd = randoms(n, 7);
        using w = Weight.from({ data: wd, shape: [n, k] }, { format });
        using x = Tensor.from(xd, [m, k]);
        using bias = Tensor.from(bd, [n]);
        using y = linear(x, w, { bias });
        const ref = linear64(xd, weightValues(format, wd, n, k), m, k, n, bd);
        const qf = activationFactor(format) * (1 + 1e-6);
        const bound = ref.mag.map((a, i) => ref.qbound[i]! * qf + (k + 4) * 1.2e-7 * a + 1e-30);
        expectWithin(y.data, ref.y, bound, `${format} m=${m} k=${k} n=${n}`);
      }
    }
    expect(memoryStats().liveBlocks).toBe(before);
  });

  it('int4-panels equals int4 bit for bit (the relaxed-SIMD tile in that build); both panels at the int16 sums\' extremes', () => {
    const before = memoryStats().liveBlocks;
    const bits = (t: Tensor) => Array.from(new Uint32Array(Float32Array.from(t.data).buffer));
    for (const [m, k, n] of [[1, 32, 8], [4, 64, 16], [7, 100, 13], [16, 384, 40], [33, 600, 130]] as const) {
      const wd = randoms(n * k, n * k, -0.5, 0.5), xd = randoms(m * k, m * k, -2, 2), bd = randoms(n, 11);
      // Extremes: each block of row 0 is one −8·d and 31 × 7·d (nibbles 0 and 15); x rows
      // of all +1 and all −1 (codes ±127): a lane's block sum reaches ±8 · 2·127·15.
      for (let p = 0; p < k; p++) wd[p] = p % 32 === 0 ? -8 : 7;
      if (m > 1) for (let p = 0; p < k; p++) { xd[p] = 1; xd[k + p] = -1; }
      using panels = Weight.from({ data: wd, shape: [n, k] }, { format: 'int4-panels' });
      using rows = Weight.from({ data: wd, shape: [n, k] }, { format: 'int4' });
      using x = Tensor.from(xd, [m, k]);
      using bias = Tensor.from(bd, [n]);
      using a = linear(x, panels, { bias });
      using b = linear(x, rows, { bias });
      // From 3 rows both run a GEMM (int4 rows the integer GEMM, after unpacking).
      if (m > 2) expect(bits(a), `m=${m} k=${k} n=${n}`).toEqual(bits(b));
      // Every m against the float64 reference of the q4_0 values; int8-panels on the same
      // extremes (codes ±127 against activations of one sign: the relaxed tile's 16-bit pair sums peak).
      const ref = linear64(xd, quantize64('q4_0', wd, n, k), m, k, n, bd);
      expectWithin(a.data, ref.y, ref.mag.map((v, i) => ref.qbound[i]! * (1 + 1e-6) + (k + 4) * 1.2e-7 * v + 1e-30),
        `int4-panels m=${m} k=${k} n=${n}`);
      using p8 = Weight.from({ data: wd, shape: [n, k] }, { format: 'int8-panels' });
      using c = linear(x, p8, { bias });
      const ref8 = linear64(xd, quantize64('q8_0', wd, n, k), m, k, n, bd);
      const qf = activationFactor('int8-panels') * (1 + 1e-6);
      expectWithin(c.data, ref8.y, ref8.mag.map((v, i) => ref8.qbound[i]! * qf + (k + 4) * 1.2e-7 * v + 1e-30),
        `int8-panels m=${m} k=${k} n=${n}`);
    }
    expect(memoryStats().liveBlocks).toBe(before);
  });

  it('float32-panels past the GEMM\'s blocks: m to 130 (MC 128), k 1100 (KC 512), n 2051 (NC 2048)', () => {
    const before = memoryStats().liveBlocks;
    const k = 1100, n = 2051;
    const wd = randoms(n * k, 3, -0.5, 0.5), bd = randoms(n, 4);
    using w = Weight.from({ data: wd, shape: [n, k] }, { format: 'float32-panels' });
    using bias = Tensor.from(bd, [n]);
    for (const m of [1, 4, 130]) {
      const xd = randoms(m * k, m, -2, 2);
      using x = Tensor.from(xd, [m, k]);
      using y = linear(x, w, { bias });
      const ref = linear64(xd, Float64Array.from(wd), m, k, n, bd);
      expectWithin(y.data, ref.y, ref.mag.map((a) => (k + 4) * 1.2e-7 * a + 1e-30), `panels m=${m}`);
    }
    expect(memoryStats().liveBlocks).toBe(before + 2);
  });

  it('batched x [2, 3, k] and out', () => {
    const [k, n] = [40, 9];
    const wd = randoms(n * k, 3);
    using w = Weight.from({ data: wd, shape: [n, k] }, { format: 'int8' });
    const xd = randoms(6 * k, 4);
    using x = Tensor.from(xd, [2, 3, k]);
    using out = Tensor.zeros([2, 3, n]);
    const y = linear(x, w, { out });
    expect(y).toBe(out);
    const ref = linear64(xd, quantize64('q8_0', wd, n, k), 6, k, n);
    expectWithin(out.data, ref.y, ref.qbound.map((e, i) => e * (1 + 1e-6) + 1e-5 * ref.mag[i]!), 'batched');
  });

  it('Weight.from a tensor of any dtype, bytes and dispose', () => {
    const wd = randoms(5 * 70, 9);
    using t = Tensor.from(wd, [5, 70], { dtype: 'float16' });
    const sizes: Record<WeightFormat, number> = {
      float32: 5 * 70 * 4, float16: 5 * 70 * 2, bfloat16: 5 * 70 * 2, int8: 5 * 3 * 32 + 8 * 3 * 4, int4: 5 * 3 * 16 + 8 * 3 * 4,
      'float32-panels': 8 * 70 * 4, // rows padded to the GEMM's panel width
      'int8-panels': 8 * 3 * 40, // padded rows; 32 codes, an f32 scale and an i32 code sum a block
      'int4-panels': 8 * 3 * 20, // padded rows; 32 nibbles and an f32 scale a block
    };
    for (const format of FORMATS) {
      const w = Weight.from(t, { format });
      expect(w.bytes).toBe(sizes[format]);
      expect(String(w)).toBe(`Weight(${format}, [5, 70])`);
      w.dispose();
      expect(w.disposed).toBe(true);
      w.dispose();
    }
    using same = Weight.from(t);
    expect(same.format).toBe('float16');
    const xd = randoms(70, 1);
    using x = Tensor.from(xd, [1, 70]);
    using y = linear(x, same);
    using y2 = matmul(x, t, { transposeB: true });
    if (initInfo()!.build !== 'relaxed-simd') {
      expect(Array.from(y.data)).toEqual(Array.from(y2.data));
    } else {
      // linear's weight is known finite (another float16 tile, fused differently by the relaxed build).
      const ref = linear64(xd, Float64Array.from(t.toArray()), 1, 70, 5);
      expectWithin(y.data, y2.data, ref.mag.map((m) => 72 * 2 ** -23 * m + 1e-30), 'linear vs matmul');
    }
  });

  it('rejects bad input with clear errors and leaks nothing', () => {
    const before = memoryStats().liveBlocks;
    using w = Weight.from({ data: randoms(12, 1), shape: [3, 4] }, { format: 'int4' });
    using x = Tensor.from(randoms(10, 2), [2, 5]);
    expect(() => linear(x, w)).toThrow(/x \[2, 5\] must end in in=4 to match weight \[3, 4\]/);
    using x4 = Tensor.from(randoms(8, 2), [2, 4]);
    using b = Tensor.from([1, 2], [2]);
    expect(() => linear(x4, w, { bias: b })).toThrow(/bias has shape \[2\], expected \[3\]/);
    using badOut = Tensor.zeros([2, 4]);
    expect(() => linear(x4, w, { out: badOut })).toThrow(/out has shape \[2, 4\], expected \[2, 3\]/);
    expect(() => linear(x4, {} as Weight)).toThrow(/weight must be a Weight/);
    expect(() => Weight.from({ data: randoms(12, 1), shape: [3, 4] }, { format: 'int2' as WeightFormat }))
      .toThrow(/format must be 'float32', 'float16', 'bfloat16', 'int8', 'int4', 'float32-panels', 'int8-panels', 'int4-panels'; got string int2/);
    expect(() => Weight.from({ data: randoms(12, 1), shape: [12] as unknown as [number, number] }))
      .toThrow(/shape must be \[out, in\]/);
    using t3 = Tensor.from(randoms(8, 1), [2, 2, 2]);
    expect(() => Weight.from(t3)).toThrow(/a weight is 2-D/);
    const gone = Weight.from({ data: randoms(12, 1), shape: [3, 4] });
    gone.dispose();
    expect(() => linear(x4, gone)).toThrow(/weight \[3, 4\] \(float32\) was used after dispose\(\)/);
    expect(memoryStats().liveBlocks).toBe(before + 6);
  });
});

describe('matmul with transposeB and few rows uses the matrix–vector kernel', () => {
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    it(`${dtype}: matches the float64 product for m = 1..16 and the GEMM beyond`, () => {
      for (const [k, n] of [[3, 5], [64, 33], [129, 17]] as [number, number][]) {
        const bd = randoms(n * k, k + n);
        using b = Tensor.from(bd, [n, k], { dtype });
        const bv = dtype === 'float32' ? bd : b.toArray();
        for (const m of [1, 4, 16, 17]) {
          const ad = randoms(m * k, m + k);
          using a = Tensor.from(ad, [m, k]);
          using c = matmul(a, b, { transposeB: true });
          const ref = linear64(ad, bv, m, k, n);
          expectWithin(c.data, ref.y, ref.mag.map((x) => (k + 4) * 1.2e-7 * x + 1e-30), `${dtype} m=${m} k=${k} n=${n}`);
          const ref2 = matmul64(ad, bv, m, k, n, { transB: true });
          expect(ref2.length).toBe(ref.y.length);
        }
      }
    });
  }
});

describe('float16 weights holding ±inf or NaN', () => {
  it('give the float32 results of the widened values (exact widening for such tiles)', () => {
    const [n, k] = [9, 40];
    const wd = randoms(n * k, 21);
    using t = Tensor.from(wd, [n, k], { dtype: 'float16' });
    const bits = t.data as Uint16Array;
    bits[2 * k + 3] = 0x7c00; // +inf in row 2
    bits[5 * k + 10] = 0x7e00; // NaN in row 5
    bits[8 * k + 39] = 0xfc00; // −inf in the tail columns of row 8
    using w = Weight.from(t);
    const xd = randoms(k, 22, 0.5, 1); // positive: inf·x keeps its sign
    using x = Tensor.from(xd, [1, k]);
    using y = linear(x, w);
    const wv = Float64Array.from(t.toArray());
    const ref = linear64(xd, wv, 1, k, n);
    for (let j = 0; j < n; j++) {
      if (j === 2) expect(y.data[j]).toBe(Infinity);
      else if (j === 5) expect(y.data[j]).toBeNaN();
      else if (j === 8) expect(y.data[j]).toBe(-Infinity);
      else expect(Math.abs(y.data[j]! - ref.y[j]!)).toBeLessThanOrEqual((k + 4) * 1.2e-7 * ref.mag[j]!);
    }
  });
});

describe('16-bit weights give bit for bit the results of their float32 copies', () => {
  // The relaxed-SIMD build fuses mul+add pairs where its build script can prove them, which it
  // does differently in the float16 tile taken for weights known finite: there, within the
  // rounding of k products and their sum.
  for (const dtype of ['float16', 'bfloat16'] as const) {
    it(dtype, () => {
      const relaxed = initInfo()!.build === 'relaxed-simd';
      for (const [m, k, n] of [[1, 7, 3], [2, 12, 5], [3, 45, 9], [16, 130, 6]] as const) {
        const xd = randoms(m * k, m + k);
        using w16 = Tensor.from(randoms(n * k, k + n), [n, k], { dtype });
        using w32 = Tensor.from(w16.toArray(), [n, k]);
        using x = Tensor.from(xd, [m, k]);
        using a = Weight.from(w16);
        using b = Weight.from(w32);
        using ya = linear(x, a);
        using yb = linear(x, b);
        const where = `${dtype} m=${m} k=${k} n=${n}`;
        if (!relaxed || dtype !== 'float16') {
          expect(Array.from(ya.data), where).toEqual(Array.from(yb.data));
          continue;
        }
        const ref = linear64(xd, Float64Array.from(w32.toArray()), m, k, n);
        expectWithin(ya.data, yb.data, ref.mag.map((s) => (k + 2) * 2 ** -23 * s + 1e-30), where);
      }
    });
  }
});

describe('Weight.fromBytes (the loaders\' path) stores what Weight.from stores', () => {
  // Row blocks of raw little-endian bytes, stacked: one part larger than the 1 MiB staging
  // buffer (several chunks), one of a single row, one empty.
  const cols = 520, rows = [3, 600, 1, 0];
  const total = rows.reduce((a, b) => a + b, 0);
  const values = randoms(total * cols, 77, -1, 1);
  for (const dtype of ['float32', 'float16', 'bfloat16'] as const) {
    for (const format of FORMATS) {
      it(`${dtype} bytes → ${format}`, () => {
        const before = memoryStats().liveBlocks;
        {
          using all = Tensor.from(values, [total, cols], { dtype });
          const allBytes = new Uint8Array(all.toArray().length * (dtype === 'float32' ? 4 : 2));
          allBytes.set(new Uint8Array(all.data.buffer, all.data.byteOffset, allBytes.length));
          let at = 0;
          const parts = rows.map((r) => {
            const size = dtype === 'float32' ? 4 : 2, bytes = allBytes.slice(at * cols * size, (at + r) * cols * size);
            at += r;
            return { rows: r, dtype, read: () => bytes };
          });
          using a = Weight.fromBytes(parts, cols, format, 'test');
          using b = Weight.from(all, { format });
          expect(a.shape).toEqual([total, cols]);
          expect(a.bytes).toBe(b.bytes);
          using x = Tensor.from(randoms(2 * cols, 5), [2, cols]);
          using ya = linear(x, a);
          using yb = linear(x, b);
          expect(Array.from(ya.data)).toEqual(Array.from(yb.data));
          expect(() => Weight.fromBytes([{ rows: 2, dtype, read: () => allBytes.subarray(0, 3) }], cols, format, 'test'))
            .toThrow(/needs .* bytes, got 3/);
        }
        expect(memoryStats().liveBlocks).toBe(before);
      });
    }
  }
});
