/**
 * Widening of IEEE binary16 (float16) and bfloat16 to float32, exactly (every value of
 * both formats is a float32 value; NaN payloads and signed zeros are kept).
 *
 * This is the single place where half-precision data becomes float32 on load. Once
 * `Tensor` stores float16/bfloat16 itself, the safetensors reader copies those bytes as
 * they are and this conversion moves into the kernels' packing.
 */

let f16Table: Float32Array | null = null;

/** All 65536 float16 values as float32 (256 KiB, built on first use). */
function table(): Float32Array {
  if (f16Table !== null) return f16Table;
  const t = new Float32Array(65536);
  const bits = new Uint32Array(t.buffer);
  for (let h = 0; h < 65536; h++) {
    const sign = (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    if (exp === 0x1f) {
      bits[h] = sign | 0x7f800000 | (man << 13); // ±Inf, NaN (payload kept)
    } else if (exp !== 0) {
      bits[h] = sign | ((exp + 112) << 23) | (man << 13); // normal: rebias 15 → 127
    } else {
      t[h] = (sign ? -1 : 1) * man * 2 ** -24; // zero or subnormal: man·2⁻²⁴, exact in float32
    }
  }
  f16Table = t;
  return t;
}

/** Writes `src.length / 2` little-endian float16 values from `src` into `dst` as float32. */
export function float16ToFloat32(src: Uint8Array, dst: Float32Array): void {
  const t = table(), n = dst.length;
  for (let i = 0, j = 0; i < n; i++, j += 2) dst[i] = t[src[j]! | (src[j + 1]! << 8)]!;
}

/** Writes little-endian bfloat16 values (the top 16 bits of a float32) from `src` into `dst`. */
export function bfloat16ToFloat32(src: Uint8Array, dst: Float32Array): void {
  const bits = new Uint32Array(dst.buffer, dst.byteOffset, dst.length);
  for (let i = 0, j = 0; i < bits.length; i++, j += 2) bits[i] = ((src[j]! | (src[j + 1]! << 8)) << 16) >>> 0;
}
