// Row softmax against a float64 reference at row lengths around the kernel's block
// sizes: the exponentials run in blocks of 32 values, then single vectors of 4, then
// a scalar tail, so lengths just below, at and above multiples of 4 and 32 take
// every path.
import { describe, expect, it } from 'vitest';
import { Tensor, softmax } from '../ts/index.js';
import { randoms, softmaxRow64 } from './helpers/reference.js';
import { expectClose } from './helpers/expect-close.js';

const COLS = [1, 3, 4, 5, 31, 32, 33, 35, 36, 63, 64, 65, 100, 1000, 1024, 1027];
const ROWS = 3;

function reference(x: ArrayLike<number>, cols: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let r = 0; r * cols < x.length; r++) {
    out.set(softmaxRow64(Array.from(x).slice(r * cols, (r + 1) * cols)), r * cols);
  }
  return out;
}

describe('softmax rows across block boundaries', () => {
  for (const cols of COLS) {
    it(`${ROWS} rows × ${cols}`, () => {
      const xd = randoms(ROWS * cols, 100 + cols, -20, 20);
      using x = Tensor.from(xd, [ROWS, cols]);
      using y = softmax(x);
      expectClose(y.data, reference(xd, cols), `softmax ${ROWS}×${cols}`, 1e-7, 2e-6);
      // In place gives the same bits as out of place.
      using z = Tensor.from(xd, [ROWS, cols]);
      softmax(z, { out: z });
      expect(Array.from(z.data)).toEqual(Array.from(y.data));
    });
  }

  it('a mask is added before the exponentials (long rows)', () => {
    const cols = 1027;
    const xd = randoms(ROWS * cols, 7, -10, 10), md = randoms(cols, 8, -5, 5);
    for (let j = 0; j < cols; j += 9) md[j] = -Infinity;
    using x = Tensor.from(xd, [ROWS, cols]);
    using mask = Tensor.from(md, [cols]);
    using y = softmax(x, { mask });
    const added = xd.map((v, i) => v + md[i % cols]!);
    expectClose(y.data, reference(added, cols), 'masked softmax', 1e-7, 2e-6);
  });

  it('a NaN or −∞ inside a block of a long row', () => {
    const cols = 1024;
    const xd = randoms(2 * cols, 9, -4, 4);
    xd[40] = NaN; // row 0, inside the first block
    for (let j = 32; j < 96; j++) xd[cols + j] = -Infinity; // row 1: two whole blocks blocked
    using x = Tensor.from(xd, [2, cols]);
    using y = softmax(x);
    expect(Array.from(y.data.subarray(0, cols)).every(Number.isNaN)).toBe(true);
    const row1 = y.data.subarray(cols);
    expect(Array.from(row1.subarray(32, 96)).every((v) => v === 0)).toBe(true);
    expectClose(row1, softmaxRow64(xd.subarray(cols)), 'row with blocked entries', 1e-7, 2e-6);
  });

  it('fully blocked first and last rows, in place and out of place', () => {
    // The pass that scales one row also finds the next row's maximum: blocked rows at
    // either end and in the middle must not disturb their neighbours.
    const cols = 100, rows = 5;
    const xd = randoms(rows * cols, 10, -6, 6);
    for (const r of [0, 2, 4]) xd.fill(-Infinity, r * cols, (r + 1) * cols);
    xd[2 * cols + 50] = NaN; // a NaN among blocked entries: that row is NaN, not zeros
    const want = reference(xd, cols);
    using x = Tensor.from(xd, [rows, cols]);
    using y = softmax(x);
    using z = Tensor.from(xd, [rows, cols]);
    softmax(z, { out: z });
    for (const got of [y.data, z.data]) {
      expect(Array.from(got.subarray(0, cols)).every((v) => v === 0)).toBe(true);
      expect(Array.from(got.subarray(2 * cols, 3 * cols)).every(Number.isNaN)).toBe(true);
      expect(Array.from(got.subarray(4 * cols)).every((v) => v === 0)).toBe(true);
      for (const r of [1, 3]) {
        expectClose(got.subarray(r * cols, (r + 1) * cols), want.subarray(r * cols, (r + 1) * cols), `row ${r}`, 1e-7, 2e-6);
      }
    }
  });
});
