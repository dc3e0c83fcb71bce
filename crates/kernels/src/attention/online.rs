//! Online softmax over one block of transposed scores (keys × queries).
//!
//! Per query column: `m' = max(m, max_j t_j)`, `c = 2^(m − m')`, `t_j ← 2^(t_j − m')`,
//! `l ← l·c + Σ_j t_j`; the caller multiplies its output rows by `c` before adding
//! `P·V`. A column that has seen only blocked keys keeps `m = −inf`; it is
//! exponentiated against 0 instead, so every weight and `c` come out 0, never NaN,
//! and `l = 0` marks the row as fully blocked. A NaN score makes `l` NaN.
//! Four query columns are processed per f32x4, reducing over keys vertically.

use super::{BLOCK_Q, S_STRIDE};

/// Updates columns `0..cols` (a multiple of 4) of `s` (rows `0..keys`, stride
/// S_STRIDE) in place into weights, and the running `m`, `l`; writes `corr = c`.
pub(super) fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
    assert!(cols % 4 == 0 && cols <= BLOCK_Q && m.len() >= cols && l.len() >= cols && corr.len() >= cols);
    assert!(keys == 0 || s.len() >= (keys - 1) * S_STRIDE + cols);
    imp::update(s, cols, keys, m, l, corr)
}

/// `o[r, ..width] *= corr[r]` for rows `0..rows` of a row-major block with stride `ld`.
pub(super) fn rescale_rows(o: &mut [f32], ld: usize, width: usize, rows: usize, corr: &[f32]) {
    for (r, &c) in corr[..rows].iter().enumerate() {
        if c != 1.0 {
            crate::rowops::scale(&mut o[r * ld..r * ld + width], c);
        }
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod imp {
    use super::S_STRIDE;
    use crate::exp::{exp2_nonpos_f32x4, exp2_nonpos_f32x4x4};
    use core::arch::wasm32::*;

    #[inline(always)]
    unsafe fn ld(p: *const f32) -> v128 {
        v128_load(p as *const v128)
    }

    pub fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
        let sp = s.as_mut_ptr();
        let keys4 = keys / 4 * 4;
        const R: usize = S_STRIDE;
        for c in (0..cols).step_by(4) {
            // SAFETY: c + 4 ≤ cols ≤ len of m, l, corr; rows < keys of s are readable and
            // writable at columns c..c+4 (asserted by the caller).
            unsafe {
                let m_old = ld(m.as_ptr().add(c));
                // Block maximum with four independent chains. pmax is one instruction but
                // may drop a NaN; a NaN score still poisons the sum below (2^NaN = NaN).
                let mut mx = [m_old, m_old, m_old, m_old];
                let mut p = sp.add(c);
                let mut j = 0;
                while j < keys4 {
                    mx[0] = f32x4_pmax(ld(p), mx[0]);
                    mx[1] = f32x4_pmax(ld(p.add(R)), mx[1]);
                    mx[2] = f32x4_pmax(ld(p.add(2 * R)), mx[2]);
                    mx[3] = f32x4_pmax(ld(p.add(3 * R)), mx[3]);
                    p = p.add(4 * R);
                    j += 4;
                }
                while j < keys {
                    mx[0] = f32x4_pmax(ld(p), mx[0]);
                    p = p.add(R);
                    j += 1;
                }
                let mx = f32x4_pmax(f32x4_pmax(mx[0], mx[1]), f32x4_pmax(mx[2], mx[3]));
                let ninf = f32x4_splat(f32::NEG_INFINITY);
                let m_use = v128_bitselect(f32x4_splat(0.0), mx, f32x4_eq(mx, ninf));
                let cr = exp2_nonpos_f32x4(f32x4_sub(m_old, m_use));
                // Weights, four keys per step (independent exp chains), summed in key order.
                let mut sum = f32x4_splat(0.0);
                let mut p = sp.add(c);
                let mut j = 0;
                while j < keys4 {
                    let e = exp2_nonpos_f32x4x4([
                        f32x4_sub(ld(p), m_use),
                        f32x4_sub(ld(p.add(R)), m_use),
                        f32x4_sub(ld(p.add(2 * R)), m_use),
                        f32x4_sub(ld(p.add(3 * R)), m_use),
                    ]);
                    v128_store(p as *mut v128, e[0]);
                    v128_store(p.add(R) as *mut v128, e[1]);
                    v128_store(p.add(2 * R) as *mut v128, e[2]);
                    v128_store(p.add(3 * R) as *mut v128, e[3]);
                    sum = f32x4_add(f32x4_add(f32x4_add(f32x4_add(sum, e[0]), e[1]), e[2]), e[3]);
                    p = p.add(4 * R);
                    j += 4;
                }
                while j < keys {
                    let e = exp2_nonpos_f32x4(f32x4_sub(ld(p), m_use));
                    v128_store(p as *mut v128, e);
                    sum = f32x4_add(sum, e);
                    p = p.add(R);
                    j += 1;
                }
                let lp = l.as_mut_ptr().add(c) as *mut v128;
                v128_store(lp, f32x4_add(f32x4_mul(v128_load(lp), cr), sum));
                v128_store(m.as_mut_ptr().add(c) as *mut v128, mx);
                v128_store(corr.as_mut_ptr().add(c) as *mut v128, cr);
            }
        }
    }
}

#[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
mod imp {
    use super::S_STRIDE;
    use crate::exp::exp2_nonpos;
    use crate::rowops::max_nan;

    pub fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
        for c in 0..cols {
            let mut mx = m[c];
            for j in 0..keys {
                mx = max_nan(s[j * S_STRIDE + c], mx);
            }
            let m_use = if mx == f32::NEG_INFINITY { 0.0 } else { mx };
            let cr = exp2_nonpos(m[c] - m_use);
            let mut sum = 0.0;
            for j in 0..keys {
                let x = &mut s[j * S_STRIDE + c];
                *x = exp2_nonpos(*x - m_use);
                sum += *x;
            }
            l[c] = l[c] * cr + sum;
            m[c] = mx;
            corr[c] = cr;
        }
    }
}
