import { describe, expect, it } from 'vitest';
import { Tensor, memoryStats, reserveMemory } from '../ts/index.js';

describe('Tensor', () => {
  it('from/empty/zeros, shape, data view and toArray copy', () => {
    using t = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]);
    expect(t.shape).toEqual([2, 3]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    expect(t.size).toBe(6);
    expect(Array.from(t.data)).toEqual([1, 2, 3, 4, 5, 6]);
    const copy = t.toArray();
    t.data[0] = 42;
    expect(t.data[0]).toBe(42);
    expect(copy[0]).toBe(1);
    using z = Tensor.zeros([4, 5]);
    expect(Array.from(z.data).every((x) => x === 0)).toBe(true);
    using e = Tensor.empty([0, 3]);
    expect(e.data.length).toBe(0);
    using f64 = Tensor.from(new Float64Array([0.1, 0.2]));
    expect(f64.shape).toEqual([2]);
    expect(f64.data[0]).toBe(Math.fround(0.1));
  });

  it('allocations are 16-byte aligned', () => {
    const ts = [1, 3, 5, 17].map((n) => Tensor.zeros([n]));
    for (const t of ts) expect(t.ptr % 16).toBe(0);
    ts.forEach((t) => t.dispose());
  });

  it('the data view survives memory growth', () => {
    using t = Tensor.from([1, 2, 3]);
    const before = memoryStats().memoryBytes;
    const big = Tensor.empty([(before / 4) * 2]); // forces memory.grow
    expect(memoryStats().memoryBytes).toBeGreaterThan(before);
    expect(Array.from(t.data)).toEqual([1, 2, 3]);
    big.dispose();
  });

  it('dispose frees memory, twice is harmless, use after dispose throws', () => {
    const base = memoryStats();
    const t = Tensor.zeros([1000]);
    expect(memoryStats().liveBytes).toBeGreaterThanOrEqual(base.liveBytes + 4000);
    expect(memoryStats().liveBlocks).toBe(base.liveBlocks + 1);
    t.dispose();
    t.dispose();
    expect(t.disposed).toBe(true);
    expect(memoryStats().liveBlocks).toBe(base.liveBlocks);
    expect(memoryStats().liveBytes).toBe(base.liveBytes);
    expect(() => t.data).toThrow(/tensor of shape \[1000\] was used after dispose\(\)/);
    expect(() => t.toArray()).toThrow(/after dispose/);
  });

  it('rejects bad shapes, data and dtypes', () => {
    expect(() => Tensor.from([1, 2, 3], [2, 2])).toThrow(/data of length 3 does not match shape \[2, 2\] \(4 elements\)/);
    expect(() => Tensor.empty([2, -1])).toThrow(/invalid size at axis 1: -1/);
    expect(() => Tensor.empty([1.5])).toThrow(RangeError);
    expect(() => Tensor.empty([65536, 65536])).toThrow(/more than WASM's 4 GiB/);
    expect(() => Tensor.from(new BigInt64Array(2) as never)).toThrow(/unsupported dtype: BigInt64Array/);
    expect(() => Tensor.from(['a'] as never)).toThrow(/data\[0\] is string a/);
    expect(() => Tensor.from('abc' as never)).toThrow(TypeError);
    expect(() => Tensor.empty(3 as never)).toThrow(/shape must be an array/);
  });

  it('reserveMemory grows memory once, up front', () => {
    const before = memoryStats().memoryBytes;
    reserveMemory(before + 1_000_000);
    const after = memoryStats().memoryBytes;
    expect(after).toBeGreaterThan(before);
    using t = Tensor.zeros([200_000]);
    expect(memoryStats().memoryBytes).toBe(after);
    expect(() => reserveMemory(2 ** 33)).toThrow(/cannot allocate/);
  });
});
