//! SIMD128 gemv for float weights (float32, float16, bfloat16): four weight rows widened
//! to f32 as loaded, against one activation row, products accumulated in f32.

use core::arch::wasm32::*;

use super::tile_simd128::{hsum4, spaced_rows, store_spaced};
use super::NR;
use crate::dtype::Elem;

/// Dot products of activation row `x[0..k]` with four weight rows (f32 lanes widened
/// as loaded), eight columns a step (two accumulators per row), then four, then one.
#[inline(always)]
unsafe fn float_dot4_simd128<E: Elem>(k: usize, x: *const f32, w: [*const E; NR]) -> v128 {
    let z = f32x4_splat(0.0);
    let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
    let (mut b0, mut b1, mut b2, mut b3) = (z, z, z, z);
    let mut p = 0;
    while p + 8 <= k {
        let x0 = v128_load(x.add(p) as *const v128);
        let x1 = v128_load(x.add(p + 4) as *const v128);
        a0 = f32x4_add(a0, f32x4_mul(E::load4(w[0].add(p)), x0));
        a1 = f32x4_add(a1, f32x4_mul(E::load4(w[1].add(p)), x0));
        a2 = f32x4_add(a2, f32x4_mul(E::load4(w[2].add(p)), x0));
        a3 = f32x4_add(a3, f32x4_mul(E::load4(w[3].add(p)), x0));
        b0 = f32x4_add(b0, f32x4_mul(E::load4(w[0].add(p + 4)), x1));
        b1 = f32x4_add(b1, f32x4_mul(E::load4(w[1].add(p + 4)), x1));
        b2 = f32x4_add(b2, f32x4_mul(E::load4(w[2].add(p + 4)), x1));
        b3 = f32x4_add(b3, f32x4_mul(E::load4(w[3].add(p + 4)), x1));
        p += 8;
    }
    if p + 4 <= k {
        let x0 = v128_load(x.add(p) as *const v128);
        a0 = f32x4_add(a0, f32x4_mul(E::load4(w[0].add(p)), x0));
        a1 = f32x4_add(a1, f32x4_mul(E::load4(w[1].add(p)), x0));
        a2 = f32x4_add(a2, f32x4_mul(E::load4(w[2].add(p)), x0));
        a3 = f32x4_add(a3, f32x4_mul(E::load4(w[3].add(p)), x0));
        p += 4;
    }
    let mut s = hsum4(f32x4_add(a0, b0), f32x4_add(a1, b1), f32x4_add(a2, b2), f32x4_add(a3, b3));
    if p < k {
        let mut t = [0.0f32; NR];
        for q in p..k {
            let xv = *x.add(q);
            for (r, tr) in t.iter_mut().enumerate() {
                *tr += (*w[r].add(q)).to_f32() * xv;
            }
        }
        s = f32x4_add(s, v128_load(t.as_ptr() as *const v128));
    }
    s
}

/// 2^112, the exponent rebias from binary16 to f32 (as `dtype::F16_RESCALE`).
const F16_RESCALE: f32 = 5.192_297e33;

/// Eight binary16 values known finite → two f32x4 (exact): sign-extended, shifted so the
/// exponent|mantissa bits sit under f32's and the sign stays at bit 31 (the copies of the
/// sign at bits 30..28 masked off), then rescaled by 2^112 (see `dtype::load_f16x4_finite`).
#[inline(always)]
fn f16x8_finite(h: v128) -> (v128, v128) {
    let mask = u32x4_splat(0x8fff_e000);
    let r = f32x4_splat(F16_RESCALE);
    let lo = v128_and(i32x4_shl(i32x4_extend_low_i16x8(h), 13), mask);
    let hi = v128_and(i32x4_shl(i32x4_extend_high_i16x8(h), 13), mask);
    (f32x4_mul(lo, r), f32x4_mul(hi, r))
}

/// [`float_dot4_simd128`] for float16 rows with the cheap widening of finite halves
/// (half the integer operations of the exact one). It also keeps the largest
/// `h << 1` seen (the bits without the sign): at or above `0x7c00 << 1` a row held ±inf or
/// NaN, and the caller recomputes the tile with the exact widening. `None` then.
#[inline(always)]
unsafe fn f16_dot4_simd128(k: usize, x: *const f32, w: [*const u16; NR]) -> Option<v128> {
    let z = f32x4_splat(0.0);
    let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
    let (mut b0, mut b1, mut b2, mut b3) = (z, z, z, z);
    let mut seen = z;
    let mut p = 0;
    while p + 8 <= k {
        let x0 = v128_load(x.add(p) as *const v128);
        let x1 = v128_load(x.add(p + 4) as *const v128);
        let h0 = v128_load(w[0].add(p) as *const v128);
        let h1 = v128_load(w[1].add(p) as *const v128);
        let h2 = v128_load(w[2].add(p) as *const v128);
        let h3 = v128_load(w[3].add(p) as *const v128);
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h0, 1)), u16x8_max(i16x8_shl(h1, 1), seen));
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h2, 1)), i16x8_shl(h3, 1));
        let (l, h) = f16x8_finite(h0);
        a0 = f32x4_add(a0, f32x4_mul(l, x0));
        b0 = f32x4_add(b0, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite(h1);
        a1 = f32x4_add(a1, f32x4_mul(l, x0));
        b1 = f32x4_add(b1, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite(h2);
        a2 = f32x4_add(a2, f32x4_mul(l, x0));
        b2 = f32x4_add(b2, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite(h3);
        a3 = f32x4_add(a3, f32x4_mul(l, x0));
        b3 = f32x4_add(b3, f32x4_mul(h, x1));
        p += 8;
    }
    // Then four columns and one at a time, as `float_dot4_simd128` does: the same
    // operations in the same order, so float16 rows give bit for bit the results of
    // their float32 copies.
    if p + 4 <= k {
        let x0 = v128_load(x.add(p) as *const v128);
        let h0 = v128_load64_zero(w[0].add(p) as *const u64);
        let h1 = v128_load64_zero(w[1].add(p) as *const u64);
        let h2 = v128_load64_zero(w[2].add(p) as *const u64);
        let h3 = v128_load64_zero(w[3].add(p) as *const u64);
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h0, 1)), u16x8_max(i16x8_shl(h1, 1), seen));
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h2, 1)), i16x8_shl(h3, 1));
        a0 = f32x4_add(a0, f32x4_mul(f16x8_finite(h0).0, x0));
        a1 = f32x4_add(a1, f32x4_mul(f16x8_finite(h1).0, x0));
        a2 = f32x4_add(a2, f32x4_mul(f16x8_finite(h2).0, x0));
        a3 = f32x4_add(a3, f32x4_mul(f16x8_finite(h3).0, x0));
        p += 4;
    }
    if v128_any_true(u16x8_ge(seen, u16x8_splat(0x7c00 << 1))) {
        return None;
    }
    let mut s = hsum4(f32x4_add(a0, b0), f32x4_add(a1, b1), f32x4_add(a2, b2), f32x4_add(a3, b3));
    if p < k {
        let mut t = [0.0f32; NR];
        for q in p..k {
            let xv = *x.add(q);
            for (r, tr) in t.iter_mut().enumerate() {
                *tr += crate::dtype::f16_to_f32(*w[r].add(q)) * xv;
            }
        }
        s = f32x4_add(s, v128_load(t.as_ptr() as *const v128));
    }
    Some(s)
}

#[allow(clippy::too_many_arguments)]
pub fn float_gemv<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let q = (n + NR - 1) / NR;
    for j in 0..q {
        let rows = spaced_rows(j, q, n);
        // SAFETY: every row index is < n and w holds n·k elements (checked by the caller);
        // x rows i < m hold k floats at i·ldx; y[i·ldy + j .. + nr] lies inside y.
        unsafe {
            let wp = [w.as_ptr().add(rows[0] * k), w.as_ptr().add(rows[1] * k), w.as_ptr().add(rows[2] * k), w.as_ptr().add(rows[3] * k)];
            let half = E::DTYPE == crate::dtype::DType::F16;
            for i in 0..m {
                let xi = x.as_ptr().add(i * ldx);
                // float16 (bits in u16 lanes, E is repr(transparent)): the fast widening
                // unless the tile holds ±inf/NaN.
                let fast = if half {
                    f16_dot4_simd128(k, xi, [wp[0] as *const u16, wp[1] as *const u16, wp[2] as *const u16, wp[3] as *const u16])
                } else {
                    None
                };
                let s = match fast {
                    Some(s) => s,
                    None => float_dot4_simd128(k, xi, wp),
                };
                store_spaced(s, j, q, n, bias, &mut y[i * ldy..i * ldy + n]);
            }
        }
    }
}
