// Feeding a KVCache token by token in tests.
import { type KVCache, Tensor, decodeStep } from '../../../ts/index.js';

/** Rows [from, to) of a contiguous [H, T, W] array as a new [H, to − from, W] array. */
export function rows(x: Float32Array, H: number, T: number, W: number, from: number, to: number): Float32Array {
  const r = new Float32Array(H * (to - from) * W);
  for (let h = 0; h < H; h++) r.set(x.subarray((h * T + from) * W, (h * T + to) * W), h * (to - from) * W);
  return r;
}

/**
 * Feeds T tokens to a cache (to its sequence `sequence` when given) in chunks of the given
 * sizes (queries, keys and values of a chunk are its rows), gathering the outputs into [Hq, T, Dv].
 */
export function decode(cache: KVCache, q: Float32Array, k: Float32Array, v: Float32Array, Hq: number, Hkv: number,
  T: number, D: number, Dv: number, chunks: number[], sequence?: number): Float32Array {
  const out = new Float32Array(Hq * T * Dv);
  let t = 0;
  for (const n of chunks) {
    using kt = Tensor.from(rows(k, Hkv, T, D, t, t + n), [Hkv, n, D]);
    using vt = Tensor.from(rows(v, Hkv, T, Dv, t, t + n), [Hkv, n, Dv]);
    using qt = Tensor.from(rows(q, Hq, T, D, t, t + n), [Hq, n, D]);
    using o = decodeStep(cache, qt, kt, vt, { sequence });
    for (let h = 0; h < Hq; h++) out.set(o.data.subarray(h * n * Dv, (h + 1) * n * Dv), (h * T + t) * Dv);
    t += n;
  }
  return out;
}
