//! Online softmax over one block of transposed scores (keys × queries).
//!
//! Per query column: `m' = max(m, max_j t_j)`, `c = 2^(m − m')`, `t_j ← 2^(t_j − m')`,
//! `l ← l·c + Σ_j t_j`; the caller multiplies its output rows by `c` before adding
//! `P·V`. A column that has seen only blocked keys keeps `m = −inf`; it is
//! exponentiated against 0 instead, so every weight and `c` come out 0, never NaN.
//! Four query columns are processed per f32x4, reducing over keys vertically.

use super::BLOCK_Q;

/// Updates columns `0..cols` (a multiple of 4) of `s` (rows `0..keys`, stride
/// BLOCK_Q) in place into weights, and the running `m`, `l`; writes `corr = c`.
pub(super) fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
    assert!(cols % 4 == 0 && cols <= BLOCK_Q && m.len() >= cols && l.len() >= cols && corr.len() >= cols);
    assert!(keys == 0 || s.len() >= (keys - 1) * BLOCK_Q + cols);
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
    use super::BLOCK_Q;
    use crate::exp::exp2_nonpos_f32x4;
    use core::arch::wasm32::*;

    pub fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
        let sp = s.as_mut_ptr();
        let ninf = f32x4_splat(f32::NEG_INFINITY);
        for c in (0..cols).step_by(4) {
            // SAFETY: c + 4 ≤ cols ≤ len of m, l, corr; s covers (keys−1)·BLOCK_Q + cols (asserted).
            unsafe {
                let m_old = v128_load(m.as_ptr().add(c) as *const v128);
                let mut mx = m_old;
                let mut p = sp.add(c);
                for _ in 0..keys {
                    mx = f32x4_max(mx, v128_load(p as *const v128));
                    p = p.add(BLOCK_Q);
                }
                let m_use = v128_bitselect(f32x4_splat(0.0), mx, f32x4_eq(mx, ninf));
                let cr = exp2_nonpos_f32x4(f32x4_sub(m_old, m_use));
                let mut sum = f32x4_splat(0.0);
                let mut p = sp.add(c);
                for _ in 0..keys {
                    let e = exp2_nonpos_f32x4(f32x4_sub(v128_load(p as *const v128), m_use));
                    v128_store(p as *mut v128, e);
                    sum = f32x4_add(sum, e);
                    p = p.add(BLOCK_Q);
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
    use super::BLOCK_Q;
    use crate::exp::exp2_nonpos;
    use crate::rowops::max_nan;

    pub fn update(s: &mut [f32], cols: usize, keys: usize, m: &mut [f32], l: &mut [f32], corr: &mut [f32]) {
        for c in 0..cols {
            let mut mx = m[c];
            for j in 0..keys {
                mx = max_nan(s[j * BLOCK_Q + c], mx);
            }
            let m_use = if mx == f32::NEG_INFINITY { 0.0 } else { mx };
            let cr = exp2_nonpos(m[c] - m_use);
            let mut sum = 0.0;
            for j in 0..keys {
                let x = &mut s[j * BLOCK_Q + c];
                *x = exp2_nonpos(*x - m_use);
                sum += *x;
            }
            l[c] = l[c] * cr + sum;
            m[c] = mx;
            corr[c] = cr;
        }
    }
}
