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
    use crate::exp::{exp2_nonpos_f32x4, exp_nonpos_f32x4, exp_nonpos_f32x4xn};
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
        let n = row.len();
        let (n16, n4) = (n / 16 * 16, n / 4 * 4);
        let p = row.as_ptr();
        // Four accumulators: one pmax chain per vector would wait on its own latency.
        let ninf = f32x4_splat(f32::NEG_INFINITY);
        let (mut a0, mut a1, mut a2, mut a3) = (ninf, ninf, ninf, ninf);
        let mut j = 0;
        // SAFETY: j + 16 ≤ n16 (first loop) and j + 4 ≤ n4 (second) ≤ row.len() for every load.
        unsafe {
            while j < n16 {
                a0 = f32x4_pmax(ld(p.add(j)), a0);
                a1 = f32x4_pmax(ld(p.add(j + 4)), a1);
                a2 = f32x4_pmax(ld(p.add(j + 8)), a2);
                a3 = f32x4_pmax(ld(p.add(j + 12)), a3);
                j += 16;
            }
            while j < n4 {
                a0 = f32x4_pmax(ld(p.add(j)), a0);
                j += 4;
            }
        }
        let mut m = hmax(f32x4_pmax(f32x4_pmax(a0, a1), f32x4_pmax(a2, a3)));
        for &x in &row[n4..] {
            m = max_nan(x, m);
        }
        m
    }

    /// `dst[j] ← f(src[j] − m)` for `j < n` (vector `fv`, scalar `fs` for the tail);
    /// returns the sum of the new values.
    ///
    /// # Safety
    /// `src` readable and `dst` writable for `n` values; they may be equal (in place)
    /// but must not otherwise overlap.
    #[inline(always)]
    unsafe fn sub_map_sum(
        src: *const f32, dst: *mut f32, n: usize, m: f32, fv: impl Fn(v128) -> v128, fs: impl Fn(f32) -> f32,
    ) -> f32 {
        // One vector per iteration: with two, the exponential's ~13 constants and two
        // sums exceeded V8's registers and spilled (~3 % slower). (The softmax's e^x
        // now has its own loop, `exp_sub_map_sum`, interleaving eight vectors.)
        let n4 = n / 4 * 4;
        let vm = f32x4_splat(m);
        let mut acc = f32x4_splat(0.0);
        let mut j = 0;
        while j < n4 {
            let e = fv(f32x4_sub(ld(src.add(j)), vm));
            st(dst.add(j), e);
            acc = f32x4_add(acc, e);
            j += 4;
        }
        let mut s = hsum(acc);
        while j < n {
            let e = fs(*src.add(j) - m);
            *dst.add(j) = e;
            s += e;
            j += 1;
        }
        s
    }

    /// Vectors per block of [`exp_sub_map_sum`], and partial sums kept per block.
    const EXP_BLOCK: usize = 8;
    const EXP_ACCS: usize = 2;

    /// `dst[j] ← e^(src[j] − m)` for `j < n`; returns the sum of the new values.
    ///
    /// The softmax's hot loop. Blocks of eight vectors go through the interleaved
    /// exponential (eight independent dependency chains side by side) and into two
    /// partial sums; then single vectors, then a scalar tail. Every value is the same
    /// as [`crate::exp::exp_nonpos`] of its argument; only the order of the additions
    /// in the sum differs from a sequential loop.
    ///
    /// Measured (scratch wasm harness, interleaved A/B, CPU time, 1024×1024, Node 20, whole softmax
    /// against one vector per iteration): blocks of 4 vectors 1.17×, 6: 1.15×,
    /// 8: 1.25–1.33× with 8 partial sums, 1.21× with 1, 1.37× with 2, 1.35× with 4;
    /// 12: 1.10×, 16: 0.94× (the blocks' registers spill). An Estrin-form polynomial
    /// (shorter chain) was 1.22× at 4 vectors but raised `exp`'s maximum relative error
    /// from 9.9e-8 to 1.1e-7; summing each block as a pairwise tree into one sum was
    /// 0.9× of two partial sums; unrolling the final scaling pass gave nothing
    /// measurable. `2^((x − m)·log2 e)` through `exp2_nonpos_f32x4x4`
    /// (no two-constant reduction) was a further 1.08×, but rounding `(x − m)·log2 e`
    /// costs relative error proportional to `|x − m|`: measured max 9.3e-7 on
    /// [−16, 0] and 3.9e-6 on [−87.3, 0], against 9.9e-8 here, so it is not used.
    ///
    /// Not inlined on purpose: here `src` and `dst` may alias, so LLVM keeps each
    /// block's eight loads ahead of its stores. Inlined into a caller holding `&` and
    /// `&mut` slices it knew they do not, moved each load down next to its own chain,
    /// and the blocks measured only 1.03–1.09× instead of 1.2–1.3×. (Volatile loads
    /// and stores kept the order too, equally fast in the package build.)
    ///
    /// # Safety
    /// `src` readable and `dst` writable for `n` values; they may be equal (in place)
    /// but must not otherwise overlap.
    #[inline(never)]
    unsafe fn exp_sub_map_sum(src: *const f32, dst: *mut f32, n: usize, m: f32) -> f32 {
        let step = 4 * EXP_BLOCK;
        let (nb, n4) = (n / step * step, n / 4 * 4);
        let vm = f32x4_splat(m);
        let mut acc = [f32x4_splat(0.0); EXP_ACCS];
        let mut j = 0;
        while j < nb {
            let mut x = [vm; EXP_BLOCK];
            for (i, xi) in x.iter_mut().enumerate() {
                *xi = f32x4_sub(ld(src.add(j + 4 * i)), vm);
            }
            let e = exp_nonpos_f32x4xn(x);
            for (i, &ei) in e.iter().enumerate() {
                st(dst.add(j + 4 * i), ei);
                acc[i % EXP_ACCS] = f32x4_add(acc[i % EXP_ACCS], ei);
            }
            j += step;
        }
        while j < n4 {
            let e = exp_nonpos_f32x4(f32x4_sub(ld(src.add(j)), vm));
            st(dst.add(j), e);
            acc[0] = f32x4_add(acc[0], e);
            j += 4;
        }
        let mut s = hsum(f32x4_add(acc[0], acc[1]));
        while j < n {
            let e = crate::exp::exp_nonpos(*src.add(j) - m);
            *dst.add(j) = e;
            s += e;
            j += 1;
        }
        s
    }

    pub fn exp_sub_sum(row: &mut [f32], m: f32) -> f32 {
        let p = row.as_mut_ptr();
        // SAFETY: in place over the row.
        unsafe { exp_sub_map_sum(p, p, row.len(), m) }
    }

    pub fn exp_sub_sum_into(src: &[f32], dst: &mut [f32], m: f32) -> f32 {
        assert!(dst.len() == src.len());
        // SAFETY: two distinct slices of the same length (one is & and one &mut).
        unsafe { exp_sub_map_sum(src.as_ptr(), dst.as_mut_ptr(), src.len(), m) }
    }

    pub fn exp2_sub_sum(row: &mut [f32], m: f32) -> f32 {
        let p = row.as_mut_ptr();
        // SAFETY: in place over the row.
        unsafe { sub_map_sum(p, p, row.len(), m, exp2_nonpos_f32x4, crate::exp::exp2_nonpos) }
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

    pub fn scale_max(row: &mut [f32], s: f32, next: &[f32]) -> f32 {
        assert!(next.len() == row.len());
        let n = row.len();
        let (n16, n4) = (n / 16 * 16, n / 4 * 4);
        let vs = f32x4_splat(s);
        let (p, q) = (row.as_mut_ptr(), next.as_ptr());
        let ninf = f32x4_splat(f32::NEG_INFINITY);
        let mut a = [ninf; 4];
        let mut j = 0;
        // SAFETY: j + 16 ≤ n16 (first loop) and j + 4 ≤ n4 (second) ≤ n for every access;
        // `row` is &mut and `next` &, so they do not overlap.
        unsafe {
            while j < n16 {
                for (k, ak) in a.iter_mut().enumerate() {
                    st(p.add(j + 4 * k), f32x4_mul(ld(p.add(j + 4 * k)), vs));
                    *ak = f32x4_pmax(ld(q.add(j + 4 * k)), *ak);
                }
                j += 16;
            }
            while j < n4 {
                st(p.add(j), f32x4_mul(ld(p.add(j)), vs));
                a[0] = f32x4_pmax(ld(q.add(j)), a[0]);
                j += 4;
            }
        }
        let mut m = hmax(f32x4_pmax(f32x4_pmax(a[0], a[1]), f32x4_pmax(a[2], a[3])));
        for (x, &y) in row[n4..].iter_mut().zip(&next[n4..]) {
            *x *= s;
            m = max_nan(y, m);
        }
        m
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

    pub fn exp_sub_sum_into(src: &[f32], dst: &mut [f32], m: f32) -> f32 {
        assert!(dst.len() == src.len());
        let mut s = 0.0;
        for (o, &x) in dst.iter_mut().zip(src) {
            *o = exp_nonpos(x - m);
            s += *o;
        }
        s
    }

    pub fn exp2_sub_sum(row: &mut [f32], m: f32) -> f32 {
        sub_map_sum(row, m, exp2_nonpos)
    }

    pub fn scale(row: &mut [f32], s: f32) {
        row.iter_mut().for_each(|x| *x *= s);
    }

    pub fn scale_max(row: &mut [f32], s: f32, next: &[f32]) -> f32 {
        assert!(next.len() == row.len());
        scale(row, s);
        max(next)
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

/// `dst ← e^(src − m)` element-wise (`src`, `dst` of equal length); returns the sum of
/// the new values. The same values as [`exp_sub_sum`] on a copy of `src`.
#[inline]
pub fn exp_sub_sum_into(src: &[f32], dst: &mut [f32], m: f32) -> f32 {
    imp::exp_sub_sum_into(src, dst, m)
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

/// `x ← x·s` over `row`, and the maximum of `next` (same length) as [`max`] gives it:
/// one pass over both, so that the softmax's last pass over one row also reads the
/// next row for its maximum.
#[inline]
pub fn scale_max(row: &mut [f32], s: f32, next: &[f32]) -> f32 {
    imp::scale_max(row, s, next)
}
