// 10⁵ allocate → compute → dispose cycles: memory must stay flat.
import { describe, expect, it } from 'vitest';
import { Tensor, attention, matmul, memoryStats, softmax } from '../../ts/index.js';

describe('memory soak', () => {
  it('100 000 cycles leave live bytes, blocks and WASM memory where they started', () => {
    const q = new Float32Array(2 * 3 * 4).map((_, i) => Math.sin(i));
    // Warm up so kernel scratch buffers reach their steady size.
    const cycle = (i: number) => {
      using a = Tensor.from(q, [2, 3, 4]);
      using b = Tensor.zeros([2, 3, 4]);
      if (i % 3 === 0) {
        using o = attention(a, a, a, { causal: true });
      } else if (i % 3 === 1) {
        using o = softmax(a);
      } else {
        using o = matmul(a, b, { transposeB: true });
      }
    };
    for (let i = 0; i < 300; i++) cycle(i);
    const start = memoryStats();
    for (let i = 0; i < 100_000; i++) cycle(i);
    const end = memoryStats();
    expect(end.liveBlocks).toBe(start.liveBlocks);
    expect(end.liveBytes).toBe(start.liveBytes);
    expect(end.memoryBytes).toBe(start.memoryBytes);
  });
});
