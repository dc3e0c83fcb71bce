/** Deterministic inputs, so every run (and every implementation) sees the same numbers. */

/** `count` uniform values in [lo, hi) from a seeded mulberry32 generator. */
export function randoms(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

/** Largest |a[i] − b[i]| (Infinity on a length mismatch or a NaN on one side only). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (Number.isNaN(x) || Number.isNaN(y)) {
      if (Number.isNaN(x) !== Number.isNaN(y)) return Infinity;
      continue;
    }
    const d = Math.abs(x - y);
    if (d > worst) worst = d;
  }
  return worst;
}

/**
 * Additive causal mask `[lq, lk]` with the bottom-right aligned diagonal the library
 * uses: query `i` sees keys `j ≤ i + lk − lq`. `rowsPerGroup` repeats it for
 * layouts that stack several query heads' rows (grouped-query attention).
 */
export function causalMask(lq: number, lk: number, rowsPerGroup = 1): Float32Array {
  const m = new Float32Array(rowsPerGroup * lq * lk);
  for (let r = 0; r < rowsPerGroup * lq; r++) {
    const limit = (r % lq) + lk - lq;
    for (let j = limit + 1; j < lk; j++) m[r * lk + j] = -Infinity;
  }
  return m;
}

/** `[B, H, L, D]` → `[B, L, H·D]` (the packed layout of ONNX Runtime's MultiHeadAttention). */
export function headsToPacked(x: Float32Array, b: number, h: number, l: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let bi = 0; bi < b; bi++) for (let hi = 0; hi < h; hi++) for (let li = 0; li < l; li++) {
    const src = ((bi * h + hi) * l + li) * d;
    out.set(x.subarray(src, src + d), ((bi * l + li) * h + hi) * d);
  }
  return out;
}

/** `[B, L, H·D]` → `[B, H, L, D]`. */
export function packedToHeads(x: Float32Array, b: number, h: number, l: number, d: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let bi = 0; bi < b; bi++) for (let hi = 0; hi < h; hi++) for (let li = 0; li < l; li++) {
    const dst = ((bi * h + hi) * l + li) * d;
    out.set(x.subarray(((bi * l + li) * h + hi) * d, ((bi * l + li) * h + hi) * d + d), dst);
  }
  return out;
}

/** Repeats each of `hkv` heads `group` times: `[B, Hkv, L, D]` → `[B, Hkv·group, L, D]`. */
export function repeatHeads(x: Float32Array, b: number, hkv: number, group: number, l: number, d: number): Float32Array {
  if (group === 1) return x;
  const head = l * d;
  const out = new Float32Array(x.length * group);
  for (let bi = 0; bi < b; bi++) for (let h = 0; h < hkv; h++) {
    const src = x.subarray((bi * hkv + h) * head, (bi * hkv + h + 1) * head);
    for (let g = 0; g < group; g++) out.set(src, ((bi * hkv + h) * group + g) * head);
  }
  return out;
}
