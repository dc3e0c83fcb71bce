//! SIMD128 gemv for the block formats q8_0 and q4_0: integer dot products of weight codes
//! with activation codes quantised per block at run time, one f32 scale product per block.

use core::arch::wasm32::*;

use super::tile_simd128::{hsum4, spaced_rows, splat_lane, store_spaced};
use super::{QRows, NR};
use crate::format::QK;

/// One activation block (≤ 32 values) to int8 codes held as int16; returns its scale.
/// `q = nearest(x · 127/max|x|)`; |x · 127/max|x|| ≤ 127·(1 + 2⁻²³) rounds to ±127 at most.
pub fn quantize_block(x: &[f32], q: &mut [i16]) -> f32 {
    let mut buf = [0.0f32; QK];
    buf[..x.len()].copy_from_slice(x);
    // SAFETY: buf holds 32 floats; q holds 32 i16 (checked by the caller's slicing).
    unsafe {
        let p = buf.as_ptr();
        let v: [v128; 8] = [
            v128_load(p as *const v128), v128_load(p.add(4) as *const v128),
            v128_load(p.add(8) as *const v128), v128_load(p.add(12) as *const v128),
            v128_load(p.add(16) as *const v128), v128_load(p.add(20) as *const v128),
            v128_load(p.add(24) as *const v128), v128_load(p.add(28) as *const v128),
        ];
        // f32x4.max propagates NaN; the lane maximum of |x|, then across lanes.
        let mut a = f32x4_abs(v[0]);
        for vi in &v[1..] {
            a = f32x4_max(a, f32x4_abs(*vi));
        }
        a = f32x4_max(a, i32x4_shuffle::<2, 3, 0, 1>(a, a));
        a = f32x4_max(a, i32x4_shuffle::<1, 0, 3, 2>(a, a));
        let amax = f32x4_extract_lane::<0>(a);
        if !amax.is_finite() {
            q[..QK].iter_mut().for_each(|c| *c = 0);
            return f32::NAN;
        }
        if amax == 0.0 {
            q[..QK].iter_mut().for_each(|c| *c = 0);
            return 0.0;
        }
        let inv = f32x4_splat(127.0 / amax);
        let qp = q.as_mut_ptr();
        for h in 0..4 {
            let lo = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v[2 * h], inv)));
            let hi = i32x4_trunc_sat_f32x4(f32x4_nearest(f32x4_mul(v[2 * h + 1], inv)));
            v128_store(qp.add(8 * h) as *mut v128, i16x8_narrow_i32x4(lo, hi));
        }
        amax / 127.0
    }
}

/// The four f32 scale products `d_w(row r, block b) · d_x` of a tile (one block).
#[inline(always)]
unsafe fn scales4(sr: [*const u16; NR], b: usize, xs: f32) -> [v128; NR] {
    let f = |r: usize| f32x4_splat(crate::dtype::f16_to_f32(sr[r].add(b).read_unaligned()) * xs);
    [f(0), f(1), f(2), f(3)]
}

/// i32x4 partial dot of 32 int8 weight codes `c0, c1` (16 each) with 32 int16 activations.
#[inline(always)]
fn dot32_i8(c0: v128, c1: v128, x: &[v128; 4]) -> v128 {
    let d0 = i32x4_add(i32x4_dot_i16x8(i16x8_extend_low_i8x16(c0), x[0]), i32x4_dot_i16x8(i16x8_extend_high_i8x16(c0), x[1]));
    let d1 = i32x4_add(i32x4_dot_i16x8(i16x8_extend_low_i8x16(c1), x[2]), i32x4_dot_i16x8(i16x8_extend_high_i8x16(c1), x[3]));
    i32x4_add(d0, d1)
}

/// Loads block `b` of an activation row's int16 codes.
#[inline(always)]
unsafe fn load_xblock(xq: *const i16) -> [v128; 4] {
    [
        v128_load(xq as *const v128),
        v128_load(xq.add(8) as *const v128),
        v128_load(xq.add(16) as *const v128),
        v128_load(xq.add(24) as *const v128),
    ]
}

/// One block of a tile: `acc[r] += s[r] · dot(block of row r at byte offset off; x)`.
/// Rows written out one by one (constant indices) so that the tile stays in locals.
#[inline(always)]
unsafe fn q_block<F: Fn(*const u8) -> (v128, v128)>(
    acc: [v128; NR], xrow: *const i16, s: [v128; NR], wr: [*const u8; NR], b: usize, block_bytes: usize, codes: &F,
) -> [v128; NR] {
    let xv = load_xblock(xrow.add(b * QK));
    let off = b * block_bytes;
    let (c0, c1) = codes(wr[0].add(off));
    let a0 = f32x4_add(acc[0], f32x4_mul(f32x4_convert_i32x4(dot32_i8(c0, c1, &xv)), s[0]));
    let (c0, c1) = codes(wr[1].add(off));
    let a1 = f32x4_add(acc[1], f32x4_mul(f32x4_convert_i32x4(dot32_i8(c0, c1, &xv)), s[1]));
    let (c0, c1) = codes(wr[2].add(off));
    let a2 = f32x4_add(acc[2], f32x4_mul(f32x4_convert_i32x4(dot32_i8(c0, c1, &xv)), s[2]));
    let (c0, c1) = codes(wr[3].add(off));
    let a3 = f32x4_add(acc[3], f32x4_mul(f32x4_convert_i32x4(dot32_i8(c0, c1, &xv)), s[3]));
    [a0, a1, a2, a3]
}

/// Shared tile loop of q8_0 and q4_0: `codes(p)` turns the address of a weight block
/// into its 32 codes as two i8x16 (elements 0..15, 16..31). Scale products are made
/// four blocks at a time: four float16 weight scales of a row are contiguous (one
/// widening load) and multiply the four activation scales in one vector; each block
/// then takes its lane.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn q_gemv<F: Fn(*const u8) -> (v128, v128)>(
    m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
    block_bytes: usize, codes: F,
) {
    let nb = q.nb;
    let qn = (n + NR - 1) / NR;
    for j in 0..qn {
        let rows = spaced_rows(j, qn, n);
        for i in 0..m {
            let z = f32x4_splat(0.0);
            let mut acc = [z; NR];
            // SAFETY: rows < n; wq holds n·nb blocks of block_bytes, ws n·nb float16
            // (read unaligned), the activation codes and scales rows·nb blocks (checked
            // when the planes were split and the scratch sliced).
            unsafe {
                let row = |r: usize| wq.as_ptr().add(rows[r] * nb * block_bytes);
                let wr = [row(0), row(1), row(2), row(3)];
                let srow = |r: usize| (ws.as_ptr() as *const u16).add(rows[r] * nb);
                let sr = [srow(0), srow(1), srow(2), srow(3)];
                let xrow = q.codes.as_ptr().add(i * nb * QK);
                let xsr = q.scales.as_ptr().add(i * nb);
                let mut b = 0;
                while b + 4 <= nb {
                    let xs4 = v128_load(xsr.add(b) as *const v128);
                    let s0 = f32x4_mul(crate::dtype::load_f16x4(sr[0].add(b)), xs4);
                    let s1 = f32x4_mul(crate::dtype::load_f16x4(sr[1].add(b)), xs4);
                    let s2 = f32x4_mul(crate::dtype::load_f16x4(sr[2].add(b)), xs4);
                    let s3 = f32x4_mul(crate::dtype::load_f16x4(sr[3].add(b)), xs4);
                    let l0 = [splat_lane::<0>(s0), splat_lane::<0>(s1), splat_lane::<0>(s2), splat_lane::<0>(s3)];
                    acc = q_block(acc, xrow, l0, wr, b, block_bytes, &codes);
                    let l1 = [splat_lane::<1>(s0), splat_lane::<1>(s1), splat_lane::<1>(s2), splat_lane::<1>(s3)];
                    acc = q_block(acc, xrow, l1, wr, b + 1, block_bytes, &codes);
                    let l2 = [splat_lane::<2>(s0), splat_lane::<2>(s1), splat_lane::<2>(s2), splat_lane::<2>(s3)];
                    acc = q_block(acc, xrow, l2, wr, b + 2, block_bytes, &codes);
                    let l3 = [splat_lane::<3>(s0), splat_lane::<3>(s1), splat_lane::<3>(s2), splat_lane::<3>(s3)];
                    acc = q_block(acc, xrow, l3, wr, b + 3, block_bytes, &codes);
                    b += 4;
                }
                while b < nb {
                    let s = scales4(sr, b, *xsr.add(b));
                    acc = q_block(acc, xrow, s, wr, b, block_bytes, &codes);
                    b += 1;
                }
                let out = hsum4(acc[0], acc[1], acc[2], acc[3]);
                store_spaced(out, j, qn, n, bias, &mut y[i * ldy..i * ldy + n]);
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
pub fn q8_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    q_gemv(m, n, q, wq, ws, bias, y, ldy, QK, |p| unsafe { (v128_load(p as *const v128), v128_load(p.add(16) as *const v128)) })
}

#[allow(clippy::too_many_arguments)]
pub fn q4_0_gemv(m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize) {
    q_gemv(m, n, q, wq, ws, bias, y, ldy, QK / 2, |p| unsafe {
        let c = v128_load(p as *const v128);
        let eight = i8x16_splat(8);
        // Low nibbles are elements 0..15, high nibbles 16..31; codes are nibble − 8.
        (i8x16_sub(v128_and(c, i8x16_splat(0x0f)), eight), i8x16_sub(u8x16_shr(c, 4), eight))
    })
}
