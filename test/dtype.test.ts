// Storage dtypes of Tensor: float16/bfloat16 conversion against references written from
// the format definitions (float64 arithmetic), raw bits, views, bytes and errors.
import { describe, expect, it } from 'vitest';
import { Tensor, matmul, memoryStats, softmax } from '../ts/index.js';

/** binary16 bits → value, from the definition. */
function f16Value(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m === 0 ? s * Infinity : NaN;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** bfloat16 bits → value: the top half of a float32. */
function bf16Value(h: number): number {
  const u = new Uint32Array([h << 16]);
  return new Float32Array(u.buffer)[0]!;
}

/** Nearest representable value, ties to the even bit pattern (exhaustive table search). */
function nearestEven(x: number, table: { bits: number; value: number }[], overflow: number): number {
  const a = Math.abs(x);
  const sign = x < 0 || Object.is(x, -0) ? 0x8000 : 0;
  if (a >= overflow) return sign | (table === F16_TABLE ? 0x7c00 : 0x7f80);
  let lo = 0, hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (table[mid]!.value < a) lo = mid + 1; else hi = mid;
  }
  const up = table[lo]!;
  if (lo === 0) return sign | up.bits;
  const down = table[lo - 1]!;
  const dd = a - down.value, du = up.value - a;
  return sign | (dd < du || (dd === du && (down.bits & 1) === 0) ? down.bits : up.bits);
}

const F16_TABLE = Array.from({ length: 0x7c00 }, (_, h) => ({ bits: h, value: f16Value(h) }));
const BF16_TABLE = Array.from({ length: 0x7f81 }, (_, h) => ({ bits: h, value: bf16Value(h) }));

describe('Tensor dtypes', () => {
  it('float16 raw bits: every pattern widens exactly (toArray)', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    using t = Tensor.from(bits, [65536], { dtype: 'float16' });
    expect(t.dtype).toBe('float16');
    expect(t.bytes).toBe(2 * 65536);
    expect(t.data).toBeInstanceOf(Uint16Array);
    expect(t.data[12345]).toBe(12345);
    const vals = t.toArray();
    expect(vals).toBeInstanceOf(Float32Array);
    let bad = -1;
    for (let h = 0; h < 65536; h++) {
      const want = f16Value(h);
      const got = vals[h]!;
      const ok = Number.isNaN(want) ? Number.isNaN(got) : Object.is(got, want);
      if (!ok) { bad = h; break; }
    }
    expect(bad).toBe(-1);
  });

  it('bfloat16 raw bits widen exactly', () => {
    const bits = new Uint16Array(65536).map((_, i) => i);
    using t = Tensor.from(bits, undefined, { dtype: 'bfloat16' });
    const vals = t.toArray();
    for (let h = 0; h < 65536; h += 7) {
      const want = bf16Value(h);
      expect(Number.isNaN(want) ? Number.isNaN(vals[h]!) : Object.is(vals[h], want)).toBe(true);
    }
  });

  it('numbers round to nearest even, also from float64 (no double rounding)', () => {
    const xs: number[] = [0, -0, 1, -1, 65504, 65519.99, 65520, 1e6, -1e6, 2 ** -24, 2 ** -25, 2 ** -25 * 1.0000001,
      3 * 2 ** -26, 1e-10, 0.1, 1 / 3, Infinity, -Infinity];
    // Midpoints between neighbouring halves, and just above/below them in float64
    // (where rounding through float32 first would go wrong).
    for (let h = 1; h < 0x7bff; h += 97) {
      const mid = (f16Value(h) + f16Value(h + 1)) / 2;
      xs.push(mid, mid * (1 + 2 ** -40), mid * (1 - 2 ** -40), -mid);
    }
    for (let h = 1; h < 0x7f7f; h += 89) {
      const mid = (bf16Value(h) + bf16Value(h + 1)) / 2;
      xs.push(mid, mid * (1 + 2 ** -40), mid * (1 - 2 ** -40));
    }
    using h16 = Tensor.from(xs, [xs.length], { dtype: 'float16' });
    using b16 = Tensor.from(new Float64Array(xs), [xs.length], { dtype: 'bfloat16' });
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      expect([i, x, h16.data[i]]).toEqual([i, x, nearestEven(x, F16_TABLE, 65520)]);
      const bfOverflow = bf16Value(0x7f7f) + (bf16Value(0x7f7f) - bf16Value(0x7f7e)) / 2;
      expect([i, x, b16.data[i]]).toEqual([i, x, nearestEven(x, BF16_TABLE, bfOverflow)]);
    }
    using nan = Tensor.from([NaN, -NaN], [2], { dtype: 'float16' });
    expect(nan.toArray().every(Number.isNaN)).toBe(true);
    // float32 input: the same values as their float64 counterparts.
    const f32 = new Float32Array([0.1, 1 / 3, 65519, 2 ** -20]);
    using a = Tensor.from(f32, undefined, { dtype: 'float16' });
    expect(Array.from(a.data)).toEqual(Array.from(f32, (x) => nearestEven(x, F16_TABLE, 65520)));
  });

  it('empty/zeros/to(), data views and bytes per dtype', () => {
    using z = Tensor.zeros([3, 5], { dtype: 'bfloat16' });
    expect(z.bytes).toBe(30);
    expect(Array.from(z.toArray())).toEqual(new Array(15).fill(0));
    using f = Tensor.from([1.5, -2.25, 1e-3, 7], [2, 2]);
    expect(f.bytes).toBe(16);
    using h = f.to('float16');
    expect(h.dtype).toBe('float16');
    expect(h.shape).toEqual([2, 2]);
    expect(Array.from(h.toArray())).toEqual([1.5, -2.25, f16Value(nearestEven(1e-3, F16_TABLE, 65520)), 7]);
    using b = h.to('bfloat16');
    expect(Array.from(b.toArray())).toEqual([1.5, -2.25, bf16Value(nearestEven(f16Value(h.data[2]!), BF16_TABLE, 1e39)), 7]);
    using back = b.to('float32');
    expect(back.dtype).toBe('float32');
    expect(back.data).toBeInstanceOf(Float32Array);
    expect(String(h)).toBe('Tensor(float16, [2, 2])');
    // Writing raw bits through the live view.
    h.data[0] = 0x3c00;
    expect(h.toArray()[0]).toBe(1);
  });

  it('the 16-bit view survives memory growth; dispose frees the right bytes', () => {
    const base = memoryStats().liveBytes;
    const t = Tensor.from([1, 2, 3], [3], { dtype: 'float16' });
    const before = memoryStats().memoryBytes;
    const big = Tensor.empty([(before / 4) * 2]);
    expect(Array.from(t.toArray())).toEqual([1, 2, 3]);
    expect(Array.from(t.data)).toEqual([0x3c00, 0x4000, 0x4200]);
    big.dispose();
    t.dispose();
    expect(memoryStats().liveBytes).toBe(base);
    expect(() => t.data).toThrow(/after dispose/);
    expect(() => t.toArray()).toThrow(/after dispose/);
  });

  it('bad input: clear errors, nothing leaked', () => {
    const base = memoryStats();
    expect(() => Tensor.from(new Uint16Array(5), [2, 3], { dtype: 'float16' }))
      .toThrow(/raw float16 bits \(Uint16Array\) of length 5 does not match shape \[2, 3\]/);
    expect(() => Tensor.from([1], [1], { dtype: 'float64' as never })).toThrow(/dtype must be 'float32', 'float16', 'bfloat16'; got string float64/);
    expect(() => Tensor.empty([2], { dtype: 'int8' as never })).toThrow(/dtype must be/);
    expect(() => Tensor.from(['a' as never], [1], { dtype: 'bfloat16' })).toThrow(/data\[0\] is string a/);
    using h = Tensor.from([1, 2, 3, 4], [2, 2], { dtype: 'float16' });
    using f = Tensor.from([1, 2, 3, 4], [2, 2]);
    expect(() => matmul(h as never, f)).toThrow(/matmul: a has dtype float16, but matmul takes float32/);
    {
      // A 16-bit b is a weight operand (widened while the GEMM packs it), not an error.
      using y = matmul(f, h);
      expect(Array.from(y.data)).toEqual([7, 10, 15, 22]);
    }
    expect(() => softmax(h as never)).toThrow(/softmax: x has dtype float16/);
    expect(() => matmul(f, f, { out: h as never })).toThrow(/out has dtype float16/);
    expect(() => softmax(f, { mask: h as never })).toThrow(/mask has dtype float16/);
    const now = memoryStats();
    expect(now.liveBlocks).toBe(base.liveBlocks + 2);
  });
});
