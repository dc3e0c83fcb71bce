// What every consumer page and runtime script computes with the installed package:
// causal attention through the API and through AttentionPool, on inputs made from a
// formula. The test recomputes the result in float64 from the returned inputs.
export const SHAPE = [2, 7, 8]; // [heads, length, head dim]

function inputs(seed) {
  const [H, L, D] = SHAPE;
  return Array.from({ length: H * L * D }, (_, i) => Math.fround(Math.sin(seed * 12.9898 + i * 0.731) * 1.5));
}

/** Runs the computation; `lib` is the library entry, `poolLib` the pool entry. */
export async function compute(lib, poolLib, options = {}) {
  const [H, L, D] = SHAPE;
  const info = await lib.init(options.init);
  const q = inputs(1), k = inputs(2), v = inputs(3);
  const qt = lib.Tensor.from(q, SHAPE), kt = lib.Tensor.from(k, SHAPE), vt = lib.Tensor.from(v, SHAPE);
  const out = lib.attention(qt, kt, vt, { causal: true });
  const result = { simd: info.simd, shape: SHAPE, q, k, v, out: Array.from(out.data) };
  for (const t of [qt, kt, vt, out]) t.dispose();
  if (poolLib) {
    // No module passed: the pool must find the instance that lib.init() created.
    const pool = await poolLib.AttentionPool.create({ workers: 2 });
    const r = await pool.attention(Float32Array.from(q), Float32Array.from(k), Float32Array.from(v),
      { headsQ: H, lenQ: L, headDim: D }, { causal: true });
    result.pool = Array.from(r.out);
    result.poolThreads = pool.threads;
    result.poolSimd = pool.simd;
    pool.dispose();
  }
  return result;
}
