/**
 * `C = A·B` (or `A·Bᵀ` with `transposeB`) for row-major `A [m,k]`, `B [k,n]` / `[n,k]`.
 * i-k-j order so the inner loop streams rows of B and C.
 */
export function matmulTs(
  a: Float32Array, b: Float32Array, m: number, k: number, n: number,
  transposeB = false, out = new Float32Array(m * n),
): Float32Array {
  out.fill(0, 0, m * n);
  if (transposeB) {
    for (let i = 0; i < m; i++) {
      const ai = i * k;
      for (let j = 0; j < n; j++) {
        const bj = j * k;
        let s = 0;
        for (let p = 0; p < k; p++) s += a[ai + p]! * b[bj + p]!;
        out[i * n + j] = s;
      }
    }
    return out;
  }
  for (let i = 0; i < m; i++) {
    const ci = i * n;
    for (let p = 0; p < k; p++) {
      const aip = a[i * k + p]!;
      const bp = p * n;
      for (let j = 0; j < n; j++) out[ci + j] += aip * b[bp + j]!;
    }
  }
  return out;
}
