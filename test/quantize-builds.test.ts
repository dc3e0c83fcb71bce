/**
 * The SIMD128 block quantisers (used when weights are packed at load) against the scalar
 * definitions: both binaries pack the same rows, including rounding ties, the extremes,
 * signed maxima that occur twice, partial blocks and non-finite values; the bytes must
 * be identical.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RawExports } from '../ts/raw-exports.js';

type Raw = RawExports;

const load = (build: string): Raw => new WebAssembly.Instance(
  new WebAssembly.Module(readFileSync(new URL(`../pkg/${build}/wasm_attention_bg.wasm`, import.meta.url))), { wbg: {} },
).exports as unknown as Raw;

/** Rows meant to hit every branch: each row is one case, 70 columns (two full blocks and a partial one). */
function rows(cols: number): Float32Array[] {
  const out: Float32Array[] = [];
  let seed = 7;
  const rnd = () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32 - 0.5; };
  out.push(Float32Array.from({ length: cols }, () => rnd()));
  out.push(Float32Array.from({ length: cols }, () => rnd() * 1e-30)); // tiny scales
  out.push(Float32Array.from({ length: cols }, () => rnd() * 3e4)); // large
  // Ties: with max |x| = 127, x·(1/d) lands on k + 0.5 (q8_0); with max = −8, on k + 0.5 for q4_0 too.
  out.push(Float32Array.from({ length: cols }, (_, i) => (i % 32 === 0 ? 127 : ((i % 17) - 8) + 0.5)));
  out.push(Float32Array.from({ length: cols }, (_, i) => (i % 32 === 5 ? -8 : ((i % 15) - 7) * 0.5 - 0.25)));
  // The largest magnitude twice, with both signs, in either order.
  out.push(Float32Array.from({ length: cols }, (_, i) => (i % 32 === 3 ? 2 : i % 32 === 9 ? -2 : rnd())));
  out.push(Float32Array.from({ length: cols }, (_, i) => (i % 32 === 3 ? -2 : i % 32 === 9 ? 2 : rnd())));
  out.push(new Float32Array(cols)); // zeros
  out.push(Float32Array.from({ length: cols }, (_, i) => (i === 40 ? NaN : i === 3 ? Infinity : rnd())));
  out.push(Float32Array.from({ length: cols }, (_, i) => (i === 68 ? -Infinity : rnd()))); // in the partial block
  return out;
}

describe('SIMD128 weight quantisers equal the scalar definitions', () => {
  const simd = load('simd'), scalar = load('scalar');
  const cols = 70;
  const data = rows(cols);
  // Codes, then one float32 scale a block for the rows padded to a multiple of 4.
  for (const [name, code, codeBytes] of [['q8_0', 4, 32], ['q4_0', 5, 16]] as const) {
    it(name, () => {
      const packed = [simd, scalar].map((w) => {
        const bytes = data.length * 3 * codeBytes + Math.ceil(data.length / 4) * 4 * 3 * 4;
        const src = w.wa_alloc(data.length * cols * 4), dst = w.wa_alloc(bytes);
        data.forEach((r, i) => new Float32Array(w.memory.buffer, src + i * cols * 4, cols).set(r));
        expect(w.wa_quantize(src, 0, dst, code, data.length, cols)).toBe(0);
        return Array.from(new Uint8Array(w.memory.buffer, dst, bytes));
      });
      expect(packed[0]).toEqual(packed[1]);
    });
  }
});
