//! SIMD128 twins of `format`'s block quantisers (q8_0, q4_0), used when packing weights
//! at load time. They give bit for bit the codes and scales of the scalar definitions in
//! `format.rs` (same f32 operations in the same order; rounding written out exactly),
//! eight lanes of four at a time instead of one value at a time; and the block
//! dequantiser that feeds prefill's GEMM.

use core::arch::wasm32::*;

use crate::dtype::f32_to_f16;
use crate::format::{Format, QK};

/// A block (≤ 32 values, missing ones 0) in eight vectors, and its largest |x|: NaN when a
/// value is NaN (`f32x4.max` propagates it), +inf when one is ±inf, so a block is finite
/// exactly when that maximum is. Shared with the activation quantiser of the gemv kernels.
#[inline(always)]
pub(crate) fn load_block(x: &[f32]) -> ([v128; 8], f32) {
    // A whole block is read where it lies; a partial one from a zero-padded copy.
    let mut buf = [0.0f32; QK];
    let p = if x.len() == QK {
        x.as_ptr()
    } else {
        buf[..x.len()].copy_from_slice(x);
        buf.as_ptr()
    };
    // SAFETY: p points at 32 readable floats (x whole, or buf).
    let v: [v128; 8] = unsafe {
        [
            v128_load(p as *const v128),
            v128_load(p.add(4) as *const v128),
            v128_load(p.add(8) as *const v128),
            v128_load(p.add(12) as *const v128),
            v128_load(p.add(16) as *const v128),
            v128_load(p.add(20) as *const v128),
            v128_load(p.add(24) as *const v128),
            v128_load(p.add(28) as *const v128),
        ]
    };
    let mut a = f32x4_abs(v[0]);
    for vi in &v[1..] {
        a = f32x4_max(a, f32x4_abs(*vi));
    }
    a = f32x4_max(a, i32x4_shuffle::<2, 3, 0, 1>(a, a));
    a = f32x4_max(a, i32x4_shuffle::<1, 0, 3, 2>(a, a));
    (v, f32x4_extract_lane::<0>(a))
}

/// `round(t)`, ties away from zero (Rust's `f32::round`), for |t| < 2^23: truncate, then
/// step away from zero when the dropped fraction (exact) is at least one half.
#[inline(always)]
fn round_away(t: v128) -> v128 {
    let r = f32x4_trunc(t);
    let up = f32x4_ge(f32x4_abs(f32x4_sub(t, r)), f32x4_splat(0.5));
    let one = v128_or(f32x4_splat(1.0), v128_and(t, u32x4_splat(0x8000_0000)));
    f32x4_add(r, v128_and(one, up))
}

/// `format::q8_0_block`, vectorised.
pub fn q8_0_block(x: &[f32], q: &mut [u8]) -> u16 {
    let (v, amax) = load_block(x);
    if !amax.is_finite() {
        q[..QK].iter_mut().for_each(|c| *c = 0);
        return f32_to_f16(f32::NAN);
    }
    let d = amax / 127.0;
    let id = f32x4_splat(if d != 0.0 { 1.0 / d } else { 0.0 });
    let lim = i32x4_splat(127);
    let code = |t: v128| i32x4_max(i32x4_min(i32x4_trunc_sat_f32x4(round_away(f32x4_mul(t, id))), lim), i32x4_neg(lim));
    let h0 = i16x8_narrow_i32x4(code(v[0]), code(v[1]));
    let h1 = i16x8_narrow_i32x4(code(v[2]), code(v[3]));
    let h2 = i16x8_narrow_i32x4(code(v[4]), code(v[5]));
    let h3 = i16x8_narrow_i32x4(code(v[6]), code(v[7]));
    // SAFETY: q holds 32 bytes (the caller's block slice).
    unsafe {
        let p = q.as_mut_ptr();
        v128_store(p as *mut v128, i8x16_narrow_i16x8(h0, h1));
        v128_store(p.add(16) as *mut v128, i8x16_narrow_i16x8(h2, h3));
    }
    f32_to_f16(d)
}

/// `format::q4_0_block`, vectorised (the signed extreme is found by a scalar scan for
/// its first occurrence, as the definition takes it).
pub fn q4_0_block(x: &[f32], q: &mut [u8]) -> u16 {
    let (v, amax) = load_block(x);
    if !amax.is_finite() {
        q[..QK / 2].iter_mut().for_each(|c| *c = 0x88);
        return f32_to_f16(f32::NAN);
    }
    let max = x.iter().copied().find(|v| v.abs() == amax).unwrap_or(0.0);
    let d = max / -8.0;
    let id = f32x4_splat(if d != 0.0 { 1.0 / d } else { 0.0 });
    let half = f32x4_splat(8.5);
    let code = |t: v128| {
        i32x4_max(i32x4_min(i32x4_trunc_sat_f32x4(f32x4_add(f32x4_mul(t, id), half)), i32x4_splat(15)), i32x4_splat(0))
    };
    let lo = u8x16_narrow_i16x8(i16x8_narrow_i32x4(code(v[0]), code(v[1])), i16x8_narrow_i32x4(code(v[2]), code(v[3])));
    let hi = u8x16_narrow_i16x8(i16x8_narrow_i32x4(code(v[4]), code(v[5])), i16x8_narrow_i32x4(code(v[6]), code(v[7])));
    // Codes are ≤ 15, so shifting 16-bit lanes by 4 keeps each byte's nibble in its byte.
    // SAFETY: q holds 16 bytes (the caller's block slice).
    unsafe { v128_store(q.as_mut_ptr() as *mut v128, v128_or(lo, i16x8_shl(hi, 4))) };
    f32_to_f16(d)
}

/// `format::dequantize_block`, vectorised for whole blocks: codes widened to i32 lanes
/// (q4_0: nibbles split first), converted (exact) and multiplied by `d` (one rounding,
/// the same product as the definition).
pub fn dequantize_block(format: Format, d: f32, codes: &[u8], out: &mut [f32]) {
    if out.len() < QK {
        return crate::format::dequantize_block(format, d, codes, out);
    }
    let dv = f32x4_splat(d);
    // SAFETY: codes holds the block (32 or 16 bytes), out 32 floats.
    unsafe {
        let (c0, c1) = if format == Format::Q8_0 {
            (v128_load(codes.as_ptr() as *const v128), v128_load(codes.as_ptr().add(16) as *const v128))
        } else {
            let c = v128_load(codes.as_ptr() as *const v128);
            let eight = i8x16_splat(8);
            (i8x16_sub(v128_and(c, i8x16_splat(0x0f)), eight), i8x16_sub(u8x16_shr(c, 4), eight))
        };
        let p = out.as_mut_ptr();
        for (h, c) in [c0, c1].iter().enumerate() {
            let lo = i16x8_extend_low_i8x16(*c);
            let hi = i16x8_extend_high_i8x16(*c);
            let q = [
                i32x4_extend_low_i16x8(lo),
                i32x4_extend_high_i16x8(lo),
                i32x4_extend_low_i16x8(hi),
                i32x4_extend_high_i16x8(hi),
            ];
            for (i, qi) in q.iter().enumerate() {
                v128_store(p.add(16 * h + 4 * i) as *mut v128, f32x4_mul(f32x4_convert_i32x4(*qi), dv));
            }
        }
    }
}
