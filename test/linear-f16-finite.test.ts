// Float16 weights known finite (`wa_f16_all_finite` once, then `wa_linear` with the
// F16_FINITE flag) take the kernels' unchecked tiles: the results must be bit for bit
// those of the checked float16 path and of the weights' float32 copies, for activations
// that allow the 2^112 pre-scale and for larger ones (the exact widening). The
// relaxed-SIMD build fuses a mul+add pair only where its build script can prove the
// reordering unobservable, which depends on how wasm-opt reused locals in each copy of
// the tile: there the paths agree within the rounding of the products (one rounding
// fewer per fused pair), not bit for bit.
import { describe, expect, it } from 'vitest';
import { initInfo } from '../ts/index.js';
import { randoms } from './helpers/reference.js';
import type { RawExports } from '../ts/raw-exports.js';

type Raw = RawExports;

const F16_FINITE = 0x100;

function instance(): Raw {
  return new WebAssembly.Instance(initInfo()!.module, { wbg: {} }).exports as unknown as Raw;
}

describe('float16 weights known finite', () => {
  it('give the bits of the checked path and of float32 copies', () => {
    const w = instance();
    const relaxed = initInfo()!.build === 'relaxed-simd';
    for (const [m, k, n, scale] of [[1, 7, 3, 1], [2, 64, 9, 1], [1, 577, 13, 1e-30], [3, 45, 9, 7e4], [1, 33, 5, 3e38]] as const) {
      const src = w.wa_alloc(n * k * 4), h = w.wa_alloc(n * k * 2), wf = w.wa_alloc(n * k * 4);
      new Float32Array(w.memory.buffer, src, n * k).set(randoms(n * k, k + n));
      expect(w.wa_convert(src, 0, h, 1, n * k)).toBe(0);
      expect(w.wa_convert(h, 1, wf, 0, n * k)).toBe(0);
      expect(w.wa_f16_all_finite(h, n * k)).toBe(1);
      const x = w.wa_alloc(m * k * 4);
      new Float32Array(w.memory.buffer, x, m * k).set(randoms(m * k, m + k).map((v) => v * scale));
      const run = (ptr: number, code: number) => {
        const y = w.wa_alloc(m * n * 4);
        expect(w.wa_linear(m, k, n, x, k, ptr, code, 0, y, n)).toBe(0);
        return Float32Array.from(new Float32Array(w.memory.buffer, y, m * n));
      };
      const want = run(wf, 0);
      for (const [what, code] of [['checked', 1], ['finite', 1 | F16_FINITE]] as const) {
        const got = run(h, code);
        const where = `${what} m=${m} k=${k} n=${n} x·${scale}`;
        if (!relaxed) {
          expect(Array.from(new Uint32Array(got.buffer)), where).toEqual(Array.from(new Uint32Array(want.buffer)));
          continue;
        }
        // Σ|x·w| per output bounds the rounding of k products and their sum in f32.
        const xs = new Float32Array(w.memory.buffer, x, m * k), ws = new Float32Array(w.memory.buffer, wf, n * k);
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let mag = 0;
            for (let p = 0; p < k; p++) mag += Math.abs(xs[i * k + p]! * ws[j * k + p]!);
            const [g, e] = [got[i * n + j]!, want[i * n + j]!];
            if (!Number.isFinite(e)) expect(g, where).toBe(e);
            else expect(Math.abs(g - e), `${where} y[${i}, ${j}]`).toBeLessThanOrEqual((k + 2) * 2 ** -23 * mag);
          }
        }
      }
    }
  });

  it('are told apart from data holding ±inf or NaN', () => {
    const w = instance();
    const h = w.wa_alloc(2 * 40);
    const bits = new Uint16Array(w.memory.buffer, h, 40);
    bits.fill(0x3c00);
    expect(w.wa_f16_all_finite(h, 40)).toBe(1);
    for (const bad of [0x7c00, 0xfc00, 0x7e00, 0xffff]) {
      bits[37] = bad;
      expect(w.wa_f16_all_finite(h, 40), bad.toString(16)).toBe(0);
    }
    expect(w.wa_f16_all_finite(8, 40)).toBeLessThan(0);
  });

  it('reject the flag on another format', () => {
    const w = instance();
    const p = w.wa_alloc(64);
    expect(w.wa_linear(1, 4, 2, p, 4, p + 16, 0 | F16_FINITE, 0, p + 48, 2)).toBe(2);
  });
});
