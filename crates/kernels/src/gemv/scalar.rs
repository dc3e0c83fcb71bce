//! Scalar gemv kernels: the same tiling as the SIMD128 ones ([`super::NR`] weight rows,
//! one accumulator each), plain f32 and i32 arithmetic.

use super::{QRows, NR};
use crate::dtype::Elem;
use crate::format::QK;

/// Floats of one tile: `NR` weight rows against every activation row.
#[allow(clippy::too_many_arguments)]
pub fn float_gemv<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let mut j = 0;
    while j < n {
        let nr = (n - j).min(NR);
        for i in 0..m {
            let xi = &x[i * ldx..i * ldx + k];
            let mut acc = [0.0f32; NR];
            for p in 0..k {
                let xv = xi[p];
                for (r, a) in acc.iter_mut().enumerate().take(nr) {
                    *a += w[(j + r) * k + p].to_f32() * xv;
                }
            }
            for (r, &a) in acc.iter().enumerate().take(nr) {
                y[i * ldy + j + r] = a + bias.map_or(0.0, |b| b[j + r]);
            }
        }
        j += nr;
    }
}

/// One activation block (≤ 32 values) to int8 codes as int16; returns its scale.
pub fn quantize_block(x: &[f32], q: &mut [i16]) -> f32 {
    quantize_block_max(x, q, 127.0)
}

/// [`quantize_block`] to codes in `[−max, max]` (`max` a whole number ≤ 127): scale
/// `max|x|/max`.
pub fn quantize_block_max(x: &[f32], q: &mut [i16], max: f32) -> f32 {
    let mut amax = 0.0f32;
    let mut finite = true;
    for &v in x {
        finite &= v.is_finite();
        amax = amax.max(v.abs());
    }
    q.iter_mut().for_each(|c| *c = 0);
    if !finite {
        return f32::NAN;
    }
    if amax == 0.0 {
        return 0.0;
    }
    let inv = max / amax;
    for (c, &v) in q.iter_mut().zip(x) {
        *c = (v * inv).round().max(-max).min(max) as i16;
    }
    amax / max
}

/// Shared tile loop of the block formats: `code(r, b, j)` is the weight code of
/// element `j` of block `b` of weight row `r`.
#[allow(clippy::too_many_arguments)]
fn q_gemv(
    m: usize, n: usize, q: &QRows, ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
    code: impl Fn(usize, usize, usize) -> i32,
) {
    let nb = q.nb;
    let mut j = 0;
    while j < n {
        let nr = (n - j).min(NR);
        for i in 0..m {
            let mut acc = [0.0f32; NR];
            for b in 0..nb {
                let xq = &q.codes[(i * nb + b) * QK..(i * nb + b + 1) * QK];
                let xs = q.scales[i * nb + b];
                for (r, a) in acc.iter_mut().enumerate().take(nr) {
                    let dot: i32 = (0..QK).map(|e| code(j + r, b, e) * xq[e] as i32).sum();
                    *a += (crate::format::scale_at(ws, n, nb, j + r, b) * xs) * dot as f32;
                }
            }
            for (r, &a) in acc.iter().enumerate().take(nr) {
                y[i * ldy + j + r] = a + bias.map_or(0.0, |b| b[j + r]);
            }
        }
        j += nr;
    }
}

#[allow(clippy::too_many_arguments)]
pub fn q8_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    let nb = q.nb;
    q_gemv(m, n, q, ws, bias, y, ldy, |r, b, e| wq[(r * nb + b) * QK + e] as i8 as i32)
}

#[allow(clippy::too_many_arguments)]
pub fn q4_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    let nb = q.nb;
    q_gemv(m, n, q, ws, bias, y, ldy, |r, b, e| {
        let byte = wq[(r * nb + b) * (QK / 2) + e % (QK / 2)];
        (if e < QK / 2 { byte & 15 } else { byte >> 4 }) as i32 - 8
    })
}

/// The scalar q4_0 kernel reads codes in natural order and needs no block sums.
pub const Q4_0_SUMS: bool = false;

/// Unused by the scalar kernels (see [`Q4_0_SUMS`]).
pub fn q4_0_prepare(_codes: &mut [i16], _sums8: &mut [i32]) {}
