//! SIMD128 gemv for the block formats q8_0 and q4_0: integer dot products of weight codes
//! with activation codes quantised per block at run time, one f32 scale product per block.

use core::arch::wasm32::*;

use super::tile_simd128::{spaced_rows, store_spaced};
use super::{QRows, NR};
use crate::format::QK;

/// One activation block (≤ 32 values) to int8 codes held as int16; returns its scale.
/// `q = nearest(x · 127/max|x|)`; |x · 127/max|x|| ≤ 127·(1 + 2⁻²³) rounds to ±127 at most.
pub fn quantize_block(x: &[f32], q: &mut [i16]) -> f32 {
    quantize_block_max(x, q, 127.0)
}

/// [`quantize_block`] to codes in `[−max, max]` (`max` a whole number ≤ 127): scale
/// `max|x|/max`.
pub fn quantize_block_max(x: &[f32], q: &mut [i16], max: f32) -> f32 {
    let (v, amax) = crate::quantize_simd128::load_block(x);
    if !amax.is_finite() {
        q[..QK].iter_mut().for_each(|c| *c = 0);
        return f32::NAN;
    }
    if amax == 0.0 {
        q[..QK].iter_mut().for_each(|c| *c = 0);
        return 0.0;
    }
    // SAFETY: q holds 32 i16 (checked by the caller's slicing).
    unsafe {
        let inv = f32x4_splat(max / amax);
        let qp = q.as_mut_ptr();
        for h in 0..4 {
            let lo = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v[2 * h], inv)));
            let hi = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v[2 * h + 1], inv)));
            v128_store(qp.add(8 * h) as *mut v128, i16x8_narrow_i32x4(lo, hi));
        }
        amax / max
    }
}

/// The factor by which the q4_0 loop's integer sums exceed the true ones (see
/// [`q4_0_prepare`]); taken off once per output, exactly (a power of two).
const Q4_0_LIFT: i32 = 256;

/// Puts blocks of int16 activation codes (natural order) into the order and scale of the
/// q4_0 loop's nibble vectors (`q4_0_dot4_simd128.wat`). A block's 16 bytes are read as
/// eight u16 lanes, lane `l` holding elements `2l`, `2l+16` in its low byte's nibbles and
/// `2l+1`, `2l+17` in its high byte's. The loop masks the three low nibbles in place
/// (values `n`, `16·n`, `256·n`) and shifts the top one down (`n`), so the activations
/// come as elements 0, 2, …, 14 times 256 | 16, 18, …, 30 times 16 | 1, 3, …, 15 |
/// 17, 19, …, 31 times 256: every product is [`Q4_0_LIFT`] times the true one (|x| ≤ 127,
/// so 256·x fits i16 and a block's sum stays below 2²⁴, exact in f32). Writes each
/// block's `8·Σx`, lifted alike, to `sums8`.
pub fn q4_0_prepare(codes: &mut [i16], sums8: &mut [i32]) {
    for (blk, s) in codes.chunks_exact_mut(QK).zip(sums8.iter_mut()) {
        *s = Q4_0_LIFT * 8 * blk.iter().map(|&c| c as i32).sum::<i32>();
        // SAFETY: blk holds 32 i16 (four v128).
        unsafe {
            let p = blk.as_mut_ptr();
            let n0 = v128_load(p as *const v128);
            let n1 = v128_load(p.add(8) as *const v128);
            let n2 = v128_load(p.add(16) as *const v128);
            let n3 = v128_load(p.add(24) as *const v128);
            let even = i16x8_shuffle::<0, 2, 4, 6, 8, 10, 12, 14>;
            let odd = i16x8_shuffle::<1, 3, 5, 7, 9, 11, 13, 15>;
            v128_store(p as *mut v128, i16x8_shl(even(n0, n1), 8));
            v128_store(p.add(8) as *mut v128, i16x8_shl(even(n2, n3), 4));
            v128_store(p.add(16) as *mut v128, odd(n0, n1));
            v128_store(p.add(24) as *mut v128, i16x8_shl(odd(n2, n3), 8));
        }
    }
}

// The scale plane's tiles are this kernel's tiles (crate::format::scale_index).
#[allow(clippy::assertions_on_constants)]
const _: () = assert!(NR == crate::format::SCALE_TILE, "gemv tiles and scale-plane tiles differ");

/// Shared tile of q8_0 and q4_0: four weight rows at a time; per block of 32 and row, the
/// integer dot of the weight codes with the activation codes (exact i32 sums of
/// `i32x4.dot_i16x8_s`, whose lanes the four rows' sums are gathered from by shuffles,
/// still exact), converted to f32 as one vector of the four rows, times the block's four
/// scale products and added to the tile's accumulator (one float per row, no lane sums at
/// the end). The four rows' weight scales of a block are one vector of the scale plane,
/// which the format keeps in this tile order ([`crate::format`]), so the products are one
/// multiply by the activation scale. The block loop is written in WebAssembly text
/// (`q8_0_dot4_simd128.wat`, `q4_0_dot4_simd128.wat`; see wat_simd128.rs for why).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn q_gemv<const Q4: bool>(
    m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
    block_bytes: usize,
) {
    let nb = q.nb;
    let qn = (n + NR - 1) / NR;
    assert!(ws.len() >= qn * nb * NR * 4, "q_gemv: scale plane too short");
    for j in 0..qn {
        let rows = spaced_rows(j, qn, n);
        for i in 0..m {
            let mut acc = f32x4_splat(0.0);
            // SAFETY: rows < n; wq holds n·nb blocks of block_bytes, ws the tiles' qn·nb·NR
            // f32 scales (asserted; read unaligned), the activation codes and scales
            // rows·nb blocks (checked when the planes were split and the scratch sliced).
            unsafe {
                let row = |r: usize| wq.as_ptr().add(rows[r] * nb * block_bytes);
                let sp = (ws.as_ptr() as *const f32).add(j * nb * NR);
                let xb = q.codes.as_ptr().add(i * nb * QK);
                let xs = q.scales.as_ptr().add(i * nb);
                let accp = &mut acc as *mut v128 as *mut f32;
                if Q4 {
                    let sums = q.sums8.as_ptr().add(i * nb);
                    crate::wat_simd128::q4_0_dot4(xb, sums, row(0), row(1), row(2), row(3), sp, xs, nb, accp);
                } else {
                    crate::wat_simd128::q8_0_dot4(xb, row(0), row(1), row(2), row(3), sp, xs, nb, accp);
                }
                let mut out = acc;
                if Q4 {
                    // Exact: a power of two off sums of exactly lifted products.
                    out = f32x4_mul(out, f32x4_splat(1.0 / Q4_0_LIFT as f32));
                }
                store_spaced(out, j, qn, n, bias, &mut y[i * ldy..i * ldy + n]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn q8_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    q_gemv::<false>(m, n, q, wq, ws, bias, y, ldy, QK)
}

/// q4_0: the activation codes must have been through [`q4_0_prepare`] (order and `q.sums8`).
#[allow(clippy::too_many_arguments)]
pub fn q4_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    q_gemv::<true>(m, n, q, wq, ws, bias, y, ldy, QK / 2)
}
