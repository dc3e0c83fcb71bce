// The worked examples of the notes the project comes from, checked against the
// library and against arithmetic redone here.
import { describe, expect, it } from 'vitest';
import { Tensor, attention, attentionWeights, matmul, softmax } from '../ts/index.js';
import { expectClose } from './helpers/expect-close.js';
import { matmul64, softmaxRow64 } from './helpers/reference.js';

// "Your journey starts with one step": six tokens with 3-d embeddings.
const INPUTS = [
  0.43, 0.15, 0.89, // Your
  0.55, 0.87, 0.66, // journey
  0.57, 0.85, 0.64, // starts
  0.22, 0.58, 0.33, // with
  0.77, 0.25, 0.10, // one
  0.05, 0.80, 0.55, // step
];

describe('simplified self-attention on "Your journey starts with one step"', () => {
  it('scores = X·Xᵀ, weights = softmax(scores), contexts = weights·X', () => {
    using x = Tensor.from(INPUTS, [6, 3]);
    using scores = matmul(x, x, { transposeB: true });
    const scores64 = matmul64(INPUTS, INPUTS, 6, 3, 6, { transB: true });
    expectClose(scores.data, scores64, 'scores');
    // ω(journey, ·), worked out by hand from the inputs (the notes show only the code).
    expectClose(scores.data.subarray(6, 12), [0.9544, 1.4950, 1.4754, 0.8434, 0.7070, 1.0865], 'row 2 scores', 1e-4, 0);
    using weights = softmax(scores);
    // The notes print row 2 of the weights (to 4 places) and check that it sums to 1.
    expectClose(weights.data.subarray(6, 12), [0.1385, 0.2379, 0.2333, 0.1240, 0.1082, 0.1581],
      'row 2 weights (printed to 4 places)', 5e-5, 0);
    for (let i = 0; i < 6; i++) {
      const row = weights.data.subarray(i * 6, i * 6 + 6);
      expectClose(row, softmaxRow64(scores64.subarray(i * 6, i * 6 + 6)), `weights row ${i}`);
      expect(row.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    using contexts = matmul(weights, x);
    // z(2) for "journey" = Σ_j α_2j·x(j), worked out by hand.
    expectClose(contexts.data.subarray(3, 6), [0.4419, 0.6515, 0.5683], 'z(2)', 5e-5, 0);
    // The same through the fused kernel: q = k = v = X with scale 1.
    using fused = attention(x, x, x, { scale: 1 });
    expectClose(fused.data, contexts.data, 'fused attention vs matmul→softmax→matmul', 1e-6, 1e-5);
    using map = attentionWeights(x, x, { scale: 1 });
    expectClose(map.data, weights.data, 'attention map', 1e-6, 1e-5);
  });
});

describe('the 2-token Q/K/V example with a residual sum', () => {
  const X = [6, 1, 4, 4, 8, 4, 6, 3];
  const WQ = [1, 4, 3, 1, 1, 1, 3, 2, 3, 4, 4, 3, 1, 2, 2, 2];
  const WK = [2, 1, 2, 1, 4, 1, 4, 2, 3, 4, 4, 1, 3, 4, 1, 2];
  const WV = [4, 2, 4, 4, 3, 4, 1, 2, 2, 2, 4, 1, 4, 3, 1, 4];

  it('projections, scores, weights, output and residual', () => {
    using x = Tensor.from(X, [2, 4]);
    using wq = Tensor.from(WQ, [4, 4]);
    using wk = Tensor.from(WK, [4, 4]);
    using wv = Tensor.from(WV, [4, 4]);
    using q = matmul(x, wq);
    using k = matmul(x, wk);
    using v = matmul(x, wv);
    // As printed in the notes (these are right).
    expect(Array.from(q.data)).toEqual([23, 49, 45, 28, 33, 66, 66, 40]);
    expect(Array.from(k.data)).toEqual([40, 39, 36, 20, 59, 48, 59, 28]);
    expect(Array.from(v.data)).toEqual([51, 36, 45, 46, 68, 53, 63, 58]);
    // Q1·K1 = 5011 and Q1·K2 = 7148; scaled by 1/√4 they are 2505.5 and 3574. The notes
    // write "23*59 + 49*48 + 45*59 + 28*28 = 3574", which is the scaled value, not the sum (7148).
    using s = matmul(q, k, { transposeB: true, alpha: 0.5 });
    expect(Array.from(s.data.subarray(0, 2))).toEqual([2505.5, 3574]);
    expect(23 * 59 + 49 * 48 + 45 * 59 + 28 * 28).toBe(7148);
    // softmax([2505.5, 3574]) = [e^−1068.5, 1]: 0 in float32 (and in float64), so token 1 copies V2.
    using out = attention(q, k, v);
    expect(Array.from(out.data.subarray(0, 4))).toEqual([68, 53, 63, 58]);
    // Residual: X1 + attention = [74, 54, 67, 62], as printed.
    const residual = Array.from(out.data.subarray(0, 4), (a, i) => a + X[i]!);
    expect(residual).toEqual([74, 54, 67, 62]);
  });
});
