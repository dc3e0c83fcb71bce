/**
 * Row-wise softmax of `rows × cols` (max-subtracted), in place when `out === x`.
 * `mask` (additive, `rows × cols`) is optional. Rows with no finite entry become 0.
 */
export function softmaxTs(
  x: Float32Array, rows: number, cols: number, mask?: Float32Array, out = new Float32Array(rows * cols),
): Float32Array {
  for (let i = 0; i < rows; i++) {
    const o = i * cols;
    let max = -Infinity;
    for (let j = 0; j < cols; j++) {
      const v = x[o + j]! + (mask ? mask[o + j]! : 0);
      out[o + j] = v;
      if (v > max) max = v;
    }
    if (max === -Infinity) {
      out.fill(0, o, o + cols);
      continue;
    }
    let sum = 0;
    for (let j = 0; j < cols; j++) {
      const e = Math.exp(out[o + j]! - max);
      out[o + j] = e;
      sum += e;
    }
    const inv = 1 / sum;
    for (let j = 0; j < cols; j++) out[o + j]! *= inv;
  }
  return out;
}
