//! Vectorised operations on one contiguous row, shared by softmax and attention.
//!
//! A NaN logit must poison its whole row. The scalar maximum propagates NaN; the
//! SIMD one uses single-instruction `pmax` and may drop it, which is harmless because
//! `exp(NaN − m)` is NaN and so is the row's sum. Callers that special-case a row
//! maximum of `-inf` check for NaN themselves.

/// NaN-propagating maximum of two values (`NaN` if either is NaN).
#[inline(always)]
pub fn max_nan(a: f32, b: f32) -> f32 {
    if a.is_nan() || a > b {
        a
    } else {
        b
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::max_nan;
    use crate::exp::{exp2_nonpos_f32x4, exp_nonpos_f32x4};
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn ld(p: *const f32) -> v128 {
        v128_load(p as *const v128)
    }
    #[inline(always)]
    unsafe fn st(p: *mut f32, v: v128) {
        v128_store(p as *mut v128, v)
    }
    #[inline(always)]
    fn hmax(v: v128) -> f32 {
        let v = f32x4_pmax(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let v = f32x4_pmax(v, i32x4_shuffle::<1, 0, 3, 2>(v, v));
        f32x4_extract_lane::<0>(v)
    }
    #[inline(always)]
    fn hsum(v: v128) -> f32 {
        let v = f32x4_add(v, i32x4_shuffle::<2, 3, 0, 1>(v, v));
        let v = f32x4_add(v, i32x4_shuffle::<1, 0, 3, 2>(v, v));
        f32x4_extract_lane::<0>(v)
    }

    pub fn max(row: &[f32]) -> f32 {
        let n4 = row.len() / 4 * 4;
        let mut acc = f32x4_splat(f32::NEG_INFINITY);
        let p = row.as_ptr();
        let mut j = 0;
        // SAFETY: j + 4 ≤ n4 ≤ row.len() for every load.
        unsafe {
            while j < n4 {
                acc = f32x4_pmax(ld(p.add(j)), acc);
                j += 4;
            }
        }
        let mut m = hmax(acc);
        for &x in &row[n4..] {
            m = max_nan(x, m);
        }
        m
    }

    /// `x ← f(x − m)` over the row (vector `fv`, scalar `fs` for the tail); returns the sum.
    #[inline(always)]
    fn sub_map_sum(row: &mut [f32], m: f32, fv: impl Fn(v128) -> v128, fs: impl Fn(f32) -> f32) -> f32 {
        let n4 = row.len() / 4 * 4;
        let vm = f32x4_splat(m);
        let mut acc = f32x4_splat(0.0);
        let p = row.as_mut_ptr();
        let mut j = 0;
        // SAFETY: j + 4 ≤ n4 ≤ row.len() for every access.
        unsafe {
            while j < n4 {
                let e = fv(f32x4_sub(ld(p.add(j)), vm));
                st(p.add(j), e);
                acc = f32x4_add(acc, e);
                j += 4;
            }
        }
        let mut s = hsum(acc);
        for x in &mut row[n4..] {
            *x = fs(*x - m);
            s += *x;
        }
        s
    }

    pub fn exp_sub_sum(row: &mut [f32], m: f32) -> f32 {
        sub_map_sum(row, m, exp_nonpos_f32x4, crate::exp::exp_nonpos)
    }

    pub fn exp2_sub_sum(row: &mut [f32], m: f32) -> f32 {
        sub_map_sum(row, m, exp2_nonpos_f32x4, crate::exp::exp2_nonpos)
    }

    pub fn scale(row: &mut [f32], s: f32) {
        let n4 = row.len() / 4 * 4;
        let vs = f32x4_splat(s);
        let p = row.as_mut_ptr();
        let mut j = 0;
        // SAFETY: j + 4 ≤ n4 ≤ row.len() for every access.
        unsafe {
            while j < n4 {
                st(p.add(j), f32x4_mul(ld(p.add(j)), vs));
                j += 4;
            }
        }
        for x in &mut row[n4..] {
            *x *= s;
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::max_nan;
    use crate::exp::{exp2_nonpos, exp_nonpos};

    pub fn max(row: &[f32]) -> f32 {
        row.iter().fold(f32::NEG_INFINITY, |m, &x| max_nan(x, m))
    }

    /// `x ← f(x − m)` over the row; returns the sum.
    #[inline(always)]
    fn sub_map_sum(row: &mut [f32], m: f32, f: impl Fn(f32) -> f32) -> f32 {
        let mut s = 0.0;
        for x in row.iter_mut() {
            *x = f(*x - m);
            s += *x;
        }
        s
    }

    pub fn exp_sub_sum(row: &mut [f32], m: f32) -> f32 {
        sub_map_sum(row, m, exp_nonpos)
    }

    pub fn exp2_sub_sum(row: &mut [f32], m: f32) -> f32 {
        sub_map_sum(row, m, exp2_nonpos)
    }

    pub fn scale(row: &mut [f32], s: f32) {
        row.iter_mut().for_each(|x| *x *= s);
    }
}

/// Maximum of a row (`-inf` for an empty row); with a NaN present the result is NaN
/// or the maximum of the other values.
#[inline]
pub fn max(row: &[f32]) -> f32 {
    imp::max(row)
}

/// `x ← e^(x − m)` for each element (`m` the row maximum, so arguments ≤ 0); returns
/// the sum of the new values.
#[inline]
pub fn exp_sub_sum(row: &mut [f32], m: f32) -> f32 {
    imp::exp_sub_sum(row, m)
}

/// `x ← 2^(x − m)` (arguments ≤ 0 when `m` is the row maximum); returns their sum.
#[inline]
pub fn exp2_sub_sum(row: &mut [f32], m: f32) -> f32 {
    imp::exp2_sub_sum(row, m)
}

/// `x ← x·s` for each element.
#[inline]
pub fn scale(row: &mut [f32], s: f32) {
    imp::scale(row, s)
}
