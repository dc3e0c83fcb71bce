//! SIMD128 gemv for float weights (float32, float16, bfloat16): four weight rows widened
//! to f32 as loaded, against one activation row, products accumulated in f32.

use core::arch::wasm32::*;

use super::tile_simd128::{dot4_simd128, f16x8_finite_raw, hsum4, spaced_rows, store_spaced};
use super::NR;
use crate::dtype::{DType, Elem};

/// `|x| · 2^112` stays finite below this (f32's largest is just under 2^128).
pub(crate) const F16_PRESCALE_LIMIT: f32 = 65_536.0;

/// 2^112, the factor the activations take so the weights can skip it (as `dtype::F16_RESCALE`).
const F16_RESCALE: f32 = 5.192_297e33;

/// [`dot4_simd128`] on raw float16 lanes of data that may hold ±inf or NaN: the
/// activations take 2^112 (`|x| < F16_PRESCALE_LIMIT`, checked by the caller), and the
/// largest `h << 1` seen (the bits without the sign) is kept: at or above `0x7c00 << 1` a
/// row held ±inf or NaN, the raw lanes are wrong, and it returns `None` for the caller
/// to recompute the tile with the exact widening. The same operations in the same order
/// as [`dot4_simd128`] otherwise.
#[inline(always)]
unsafe fn f16_checked_dot4_simd128(k: usize, x: *const f32, w: [*const u16; NR]) -> Option<v128> {
    let z = f32x4_splat(0.0);
    let r = f32x4_splat(F16_RESCALE);
    let (mut a0, mut a1, mut a2, mut a3) = (z, z, z, z);
    let (mut b0, mut b1, mut b2, mut b3) = (z, z, z, z);
    let mut seen = z;
    let mut p = 0;
    while p + 8 <= k {
        let x0 = f32x4_mul(v128_load(x.add(p) as *const v128), r);
        let x1 = f32x4_mul(v128_load(x.add(p + 4) as *const v128), r);
        let h0 = v128_load(w[0].add(p) as *const v128);
        let h1 = v128_load(w[1].add(p) as *const v128);
        let h2 = v128_load(w[2].add(p) as *const v128);
        let h3 = v128_load(w[3].add(p) as *const v128);
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h0, 1)), u16x8_max(i16x8_shl(h1, 1), seen));
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h2, 1)), i16x8_shl(h3, 1));
        let (l, h) = f16x8_finite_raw(h0);
        a0 = f32x4_add(a0, f32x4_mul(l, x0));
        b0 = f32x4_add(b0, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite_raw(h1);
        a1 = f32x4_add(a1, f32x4_mul(l, x0));
        b1 = f32x4_add(b1, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite_raw(h2);
        a2 = f32x4_add(a2, f32x4_mul(l, x0));
        b2 = f32x4_add(b2, f32x4_mul(h, x1));
        let (l, h) = f16x8_finite_raw(h3);
        a3 = f32x4_add(a3, f32x4_mul(l, x0));
        b3 = f32x4_add(b3, f32x4_mul(h, x1));
        p += 8;
    }
    // Then four columns and one at a time, as `dot4_simd128` does.
    if p + 4 <= k {
        let x0 = f32x4_mul(v128_load(x.add(p) as *const v128), r);
        let h0 = v128_load64_zero(w[0].add(p) as *const u64);
        let h1 = v128_load64_zero(w[1].add(p) as *const u64);
        let h2 = v128_load64_zero(w[2].add(p) as *const u64);
        let h3 = v128_load64_zero(w[3].add(p) as *const u64);
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h0, 1)), u16x8_max(i16x8_shl(h1, 1), seen));
        seen = u16x8_max(u16x8_max(seen, i16x8_shl(h2, 1)), i16x8_shl(h3, 1));
        a0 = f32x4_add(a0, f32x4_mul(f16x8_finite_raw(h0).0, x0));
        a1 = f32x4_add(a1, f32x4_mul(f16x8_finite_raw(h1).0, x0));
        a2 = f32x4_add(a2, f32x4_mul(f16x8_finite_raw(h2).0, x0));
        a3 = f32x4_add(a3, f32x4_mul(f16x8_finite_raw(h3).0, x0));
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

/// Largest `|x|` over `m` rows of `k` (row stride `ldx`); inf when one is ±inf (NaN is
/// skipped: it propagates through either tile alike).
fn max_abs(m: usize, k: usize, x: &[f32], ldx: usize) -> f32 {
    (0..m).fold(0.0f32, |a, i| x[i * ldx..i * ldx + k].iter().fold(a, |a, v| a.max(v.abs())))
}

/// `Y = X·Wᵀ (+ bias)` tile by tile ([`spaced_rows`]). Float16 takes the raw-lane tile
/// while the activations allow its 2^112 pre-scale, checking each tile for ±inf/NaN
/// unless the type says the data is finite ([`crate::dtype::F16Finite`]).
#[allow(clippy::too_many_arguments)]
pub fn float_gemv<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let q = (n + NR - 1) / NR;
    let half = E::DTYPE == DType::F16 && max_abs(m, k, x, ldx) < F16_PRESCALE_LIMIT;
    // Float16 whose raw lanes need no check: the finite type (RAW_SCALE is set only for it).
    let finite = E::RAW_SCALE != 1.0;
    for j in 0..q {
        let rows = spaced_rows(j, q, n);
        // SAFETY: every row index is < n and w holds n·k elements (checked by the caller);
        // x rows i < m hold k floats at i·ldx; y[i·ldy + j .. + nr] lies inside y.
        unsafe {
            let wp = [
                w.as_ptr().add(rows[0] * k),
                w.as_ptr().add(rows[1] * k),
                w.as_ptr().add(rows[2] * k),
                w.as_ptr().add(rows[3] * k),
            ];
            // Float16 bits as u16 (E is repr(transparent)).
            let hp = [wp[0] as *const u16, wp[1] as *const u16, wp[2] as *const u16, wp[3] as *const u16];
            for i in 0..m {
                let xi = x.as_ptr().add(i * ldx);
                let s = if half && finite {
                    dot4_simd128::<E, true, true>(k, xi, F16_RESCALE, wp)
                } else {
                    let fast = if half { f16_checked_dot4_simd128(k, xi, hp) } else { None };
                    match fast {
                        Some(s) => s,
                        None => dot4_simd128::<E, false, true>(k, xi, 1.0, wp),
                    }
                };
                store_spaced(s, j, q, n, bias, &mut y[i * ldy..i * ldy + n]);
            }
        }
    }
}
