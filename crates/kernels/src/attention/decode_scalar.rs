//! Scalar decode kernels, the same functions as the SIMD128 files (float scores and
//! `P·V`, their int8 integer twins, widening and rounding) in plain loops: the float
//! scores keep four partial sums like the SIMD lanes.

use super::decode::CHUNK;
use crate::dtype::Elem;

#[allow(clippy::too_many_arguments)]
pub fn float_scores_scalar<T: Elem>(
    q: &[f32], rows: usize, d: usize, k: &[T], kstride: usize, c0: usize, n: usize, s: &mut [f32], chunk: usize,
    _streaming: bool,
) {
    assert!(q.len() >= rows * d && s.len() >= rows * chunk && n <= chunk);
    for jj in 0..n {
        let kr = &k[(c0 + jj) * kstride..(c0 + jj) * kstride + d];
        for r in 0..rows {
            let qr = &q[r * d..(r + 1) * d];
            // Four partial sums, like the SIMD lanes.
            let mut acc = [0f32; 4];
            let d4 = d / 4 * 4;
            for p in (0..d4).step_by(4) {
                for x in 0..4 {
                    acc[x] += qr[p + x] * kr[p + x].to_f32_raw();
                }
            }
            let mut t = (acc[0] + acc[2]) + (acc[1] + acc[3]);
            for p in d4..d {
                t += qr[p] * kr[p].to_f32_raw();
            }
            s[r * chunk + jj] = t;
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn float_weighted_sum_scalar<T: Elem>(
    w: &[f32], chunk: usize, rows: usize, n: usize, v: &[T], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
    _streaming: bool,
) {
    assert!(w.len() >= rows * chunk && o.len() >= rows * dv && n <= chunk);
    for jj in 0..n {
        let vr = &v[(c0 + jj) * vstride..(c0 + jj) * vstride + dv];
        for r in 0..rows {
            let p = w[r * chunk + jj];
            for (a, x) in o[r * dv..(r + 1) * dv].iter_mut().zip(vr) {
                *a += p * x.to_f32_raw();
            }
        }
    }
}

/// Integer float_scores_scalar of int8 keys (see the SIMD version): exact i32 sums.
#[allow(clippy::too_many_arguments)]
pub fn i8_scores_scalar(
    q: &[i16], sq: &[f32], rows: usize, d: usize, k: &[i8], kstride: usize, c0: usize, n: usize, s: &mut [f32],
) {
    assert!(q.len() >= rows * d && sq.len() >= rows && s.len() >= rows * CHUNK && n <= CHUNK);
    for jj in 0..n {
        let kr = &k[(c0 + jj) * kstride..(c0 + jj) * kstride + d];
        for r in 0..rows {
            let dot: i32 = q[r * d..(r + 1) * d].iter().zip(kr).map(|(&a, &b)| a as i32 * b as i32).sum();
            s[r * CHUNK + jj] = dot as f32 * sq[r];
        }
    }
}

/// Integer `P·V` of int8 value rows (see the SIMD version): exact i32 sums per chunk.
#[allow(clippy::too_many_arguments)]
pub fn i8_weighted_sum_scalar(
    w16: &[i16], sw: &[f32], rows: usize, n: usize, v: &[i8], vstride: usize, c0: usize, dv: usize, o: &mut [f32],
) {
    assert!(w16.len() >= rows * CHUNK && sw.len() >= rows && o.len() >= rows * dv && n <= CHUNK);
    for r in 0..rows {
        for cc in 0..dv {
            let t: i32 = (0..n).map(|jj| w16[r * CHUNK + jj] as i32 * v[(c0 + jj) * vstride + cc] as i32).sum();
            if t != 0 {
                o[r * dv + cc] += t as f32 * sw[r];
            }
        }
    }
}

/// `dst = src` widened to f32.
pub fn widen_scalar<T: Elem>(src: &[T], dst: &mut [f32]) {
    for (x, e) in dst.iter_mut().zip(src) {
        *x = e.to_f32();
    }
}

/// `dst[i] = round(src[i]·inv)` (nearest, ties to even, as the SIMD version).
pub fn round_to_i16_scalar(src: &[f32], inv: f32, dst: &mut [i16]) {
    for (d, &x) in dst.iter_mut().zip(src) {
        let y = x * inv;
        let r = y.round();
        // Ties to even, as f32x4.nearest.
        let r = if (y - y.trunc()).abs() == 0.5 && r % 2.0 != 0.0 { r - y.signum() } else { r };
        *d = r as i16;
    }
}
