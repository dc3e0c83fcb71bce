/**
 * Accuracy of the KV cache dtypes: worst and RMS absolute output error of one decode
 * step against a float64 reference on the float32 data (`npx tsx bench/kv-error.ts`).
 * Hq = 8, Hkv = 2, D = 128, 1024 cached rows, queries and values uniform in [−1, 1].
 */
import { init, KVCache, Tensor, type CacheDType } from '../dist/index.js';
import { attention64, randoms } from '../test/helpers/reference.js';

await init();
const [Hq, Hkv, T, D] = [8, 2, 1024, 128];
for (const range of [1, 3]) {
  const q = randoms(Hq * D, 1), k = randoms(Hkv * T * D, 2, -range, range), v = randoms(Hkv * T * D, 3);
  const ref = attention64(q, k, v, 1, Hq, Hkv, 1, T, D, D, {});
  let outMax = 0;
  for (const x of ref.out) outMax = Math.max(outMax, Math.abs(x));
  for (const dtype of ['float32', 'float16', 'bfloat16', 'int8'] as CacheDType[]) {
    using cache = new KVCache({ maxLength: T, numKvHeads: Hkv, headDim: D, dtype });
    using kt = Tensor.from(k, [Hkv, T, D]);
    using vt = Tensor.from(v, [Hkv, T, D]);
    cache.append(kt, vt);
    using qt = Tensor.from(q, [Hq, 1, D]);
    using out = cache.attend(qt, { causal: false });
    let worst = 0, sq = 0;
    for (let i = 0; i < out.size; i++) {
      const e = Math.abs(out.data[i]! - ref.out[i]!);
      worst = Math.max(worst, e);
      sq += e * e;
    }
    console.log(`keys in [−${range}, ${range}] ${dtype.padEnd(8)} max abs error ${worst.toExponential(2)}, ` +
      `rms ${Math.sqrt(sq / out.size).toExponential(2)} (largest |output| ${outMax.toFixed(3)})`);
  }
}
