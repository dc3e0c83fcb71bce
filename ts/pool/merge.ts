/**
 * Merging attention computed over disjoint key chunks.
 *
 * Chunk `i` gives, per query row, `o_i = Σ_{j∈i} exp(s_j − lse_i)·v_j` and
 * `lse_i = log Σ_{j∈i} exp(s_j)`. The whole row has `lse = log Σ_i exp(lse_i)`
 * and `o = Σ_i exp(lse_i − lse)·o_i`. Computed in float64 with the largest
 * `lse_i` subtracted first; rows where every chunk is fully masked
 * (`lse_i = −∞`) give 0 and `lse = −∞`, as the kernel does.
 * @internal
 */

/**
 * @param partOut `parts` partial outputs of `rows × valueDim`, one after another
 * @param partLse `parts` partial log-sum-exps of `rows`
 */
export function mergeChunks(
  partOut: Float32Array, partLse: Float32Array, parts: number, rows: number, valueDim: number,
  out: Float32Array, lse: Float32Array | null,
): void {
  const acc = new Float64Array(valueDim);
  for (let r = 0; r < rows; r++) {
    let max = -Infinity;
    for (let p = 0; p < parts; p++) max = Math.max(max, partLse[p * rows + r]!); // NaN propagates
    const dst = r * valueDim;
    if (max === -Infinity) {
      out.fill(0, dst, dst + valueDim);
      if (lse) lse[r] = -Infinity;
      continue;
    }
    let sum = 0;
    for (let p = 0; p < parts; p++) sum += Math.exp(partLse[p * rows + r]! - max);
    const total = max + Math.log(sum);
    acc.fill(0);
    for (let p = 0; p < parts; p++) {
      const l = partLse[p * rows + r]!;
      if (l === -Infinity) continue; // an all-masked chunk contributes nothing (its o_i is 0)
      const w = Math.exp(l - total);
      const src = (p * rows + r) * valueDim;
      for (let t = 0; t < valueDim; t++) acc[t] += w * partOut[src + t]!;
    }
    for (let t = 0; t < valueDim; t++) out[dst + t] = acc[t]!;
    if (lse) lse[r] = total;
  }
}
