/**
 * Int8 KV quantisation: one scale per row (what KVCache uses) against one scale per
 * group of G channels within a row. Output error of one decode step against float64 on
 * the float32 data, and bytes per row. Pure arithmetic (no kernel), so it isolates the
 * quantisation: `npx tsx bench/int8-scales.ts`. Hq = 8, Hkv = 2, D = 128, 1024 rows,
 * q and v uniform in [−1, 1]; keys uniform in [−1, 1], or with 4 of the 128 channels
 * scaled ×8 (the outlier channels seen in real key caches).
 */
import { attention64, randoms } from '../test/helpers/reference.js';

const [Hq, Hkv, T, D] = [8, 2, 1024, 128];

/** Symmetric int8 codes of `x` (rows of `D`) with a scale per `group` channels, dequantised. */
function roundTrip(x: Float32Array, group: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < x.length / D; r++) {
    for (let g0 = 0; g0 < D; g0 += group) {
      let m = 0;
      for (let c = g0; c < g0 + group; c++) m = Math.max(m, Math.abs(x[r * D + c]!));
      const scale = Math.fround(m / 127);
      for (let c = g0; c < g0 + group; c++) {
        const i = r * D + c;
        out[i] = scale === 0 ? 0 : Math.max(-127, Math.min(127, Math.round(x[i]! / scale))) * scale;
      }
    }
  }
  return out;
}

const q = randoms(Hq * D, 1), v = randoms(Hkv * T * D, 3);
for (const outliers of [false, true]) {
  const k = randoms(Hkv * T * D, 2);
  if (outliers) for (let r = 0; r < Hkv * T; r++) for (const c of [5, 40, 77, 120]) k[r * D + c] *= 8;
  const ref = attention64(q, k, v, 1, Hq, Hkv, 1, T, D, D, {});
  for (const group of [D, 64, 32]) {
    const got = attention64(q, roundTrip(k, group), roundTrip(v, group), 1, Hq, Hkv, 1, T, D, D, {});
    let worst = 0, sq = 0;
    for (let i = 0; i < ref.out.length; i++) {
      const e = Math.abs(got.out[i]! - ref.out[i]!);
      worst = Math.max(worst, e);
      sq += e * e;
    }
    const bytes = D + 4 * (D / group);
    console.log(`keys ${outliers ? 'with 4 outlier channels ×8' : 'uniform'}, scale per ${group === D ? 'row' : `${group} channels`}: ` +
      `max abs error ${worst.toExponential(2)}, rms ${Math.sqrt(sq / ref.out.length).toExponential(2)}, ${bytes} bytes per row`);
  }
}
