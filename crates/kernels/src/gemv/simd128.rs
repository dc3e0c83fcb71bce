//! SIMD128 gemv kernels.
//!
//! A tile is [`NR`] = 4 weight rows against one activation row: one f32x4 accumulator
//! per weight row (two for the float formats, to break the add chain), lanes summed at
//! the end by a 4×4 transpose-add that leaves the tile's four outputs in one vector,
//! bias added and stored at once. Rows past `n` in the last tile repeat the last row
//! (its outputs are computed and dropped), so every tile runs the same code.

use core::arch::wasm32::*;

use super::{scale_at, QRows, NR};
use crate::dtype::Elem;
use crate::format::QK;

/// `[Σa, Σb, Σc, Σd]`: the lane sums of four vectors in one.
#[inline(always)]
fn hsum4(a: v128, b: v128, c: v128, d: v128) -> v128 {
    let ab = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(a, b), i32x4_shuffle::<2, 6, 3, 7>(a, b));
    let cd = f32x4_add(i32x4_shuffle::<0, 4, 1, 5>(c, d), i32x4_shuffle::<2, 6, 3, 7>(c, d));
    f32x4_add(i32x4_shuffle::<0, 1, 4, 5>(ab, cd), i32x4_shuffle::<2, 3, 6, 7>(ab, cd))
}

/// Pointers to the four weight rows of the tile starting at row `j`.
#[inline(always)]
fn tile_rows(j: usize, n: usize) -> [usize; NR] {
    let last = n - 1;
    [j, (j + 1).min(last), (j + 2).min(last), (j + 3).min(last)]
}

/// Stores the tile's outputs `v` (+ bias) at `y[0..nr]`.
#[inline(always)]
unsafe fn store_tile(v: v128, nr: usize, bias: Option<&[f32]>, j: usize, y: &mut [f32]) {
    let mut out = [0.0f32; NR];
    let v = match bias {
        Some(b) if nr == NR => f32x4_add(v, v128_load(b.as_ptr().add(j) as *const v128)),
        _ => v,
    };
    if nr == NR {
        v128_store(y.as_mut_ptr() as *mut v128, v);
        return;
    }
    v128_store(out.as_mut_ptr() as *mut v128, v);
    for r in 0..nr {
        y[r] = out[r] + bias.map_or(0.0, |b| b[j + r]);
    }
}

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

#[allow(clippy::too_many_arguments)]
pub fn float_gemv<E: Elem>(
    m: usize, k: usize, n: usize, x: &[f32], ldx: usize, w: &[E], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
) {
    let mut j = 0;
    while j < n {
        let nr = (n - j).min(NR);
        let rows = tile_rows(j, n);
        // SAFETY: every row index is < n and w holds n·k elements (checked by the caller);
        // x rows i < m hold k floats at i·ldx; y[i·ldy + j .. + nr] lies inside y.
        unsafe {
            let wp = [w.as_ptr().add(rows[0] * k), w.as_ptr().add(rows[1] * k), w.as_ptr().add(rows[2] * k), w.as_ptr().add(rows[3] * k)];
            for i in 0..m {
                let s = float_dot4_simd128(k, x.as_ptr().add(i * ldx), wp);
                store_tile(s, nr, bias, j, &mut y[i * ldy + j..i * ldy + j + nr]);
            }
        }
        j += nr;
    }
}

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

/// The four f32 scale products `d_w(row r, block b) · d_x` of a tile.
#[inline(always)]
fn scales4(ws: &[u8], rows: [usize; NR], nb: usize, b: usize, xs: f32) -> [v128; NR] {
    [
        f32x4_splat(scale_at(ws, rows[0] * nb + b) * xs),
        f32x4_splat(scale_at(ws, rows[1] * nb + b) * xs),
        f32x4_splat(scale_at(ws, rows[2] * nb + b) * xs),
        f32x4_splat(scale_at(ws, rows[3] * nb + b) * xs),
    ]
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

/// Shared tile loop of q8_0 and q4_0: `codes(row_ptr_offset)` turns the byte offset of a
/// weight block into its 32 codes as two i8x16 (elements 0..15, 16..31).
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn q_gemv(
    m: usize, n: usize, q: &QRows, wq: &[u8], ws: &[u8], bias: Option<&[f32]>, y: &mut [f32], ldy: usize,
    block_bytes: usize, codes: impl Fn(*const u8) -> (v128, v128),
) {
    let nb = q.nb;
    let mut j = 0;
    while j < n {
        let nr = (n - j).min(NR);
        let rows = tile_rows(j, n);
        for i in 0..m {
            let z = f32x4_splat(0.0);
            let mut acc = [z; NR];
            // SAFETY: rows < n; wq holds n·nb blocks of block_bytes and the activation
            // codes rows·nb blocks of 32 (checked when the planes were split/sliced).
            unsafe {
                let w0 = wq.as_ptr();
                let xrow = q.codes.as_ptr().add(i * nb * QK);
                for b in 0..nb {
                    let xv = load_xblock(xrow.add(b * QK));
                    let s = scales4(ws, rows, nb, b, *q.scales.get_unchecked(i * nb + b));
                    for r in 0..NR {
                        let (c0, c1) = codes(w0.add((rows[r] * nb + b) * block_bytes));
                        let d = dot32_i8(c0, c1, &xv);
                        acc[r] = f32x4_add(acc[r], f32x4_mul(f32x4_convert_i32x4(d), s[r]));
                    }
                }
                let out = hsum4(acc[0], acc[1], acc[2], acc[3]);
                store_tile(out, nr, bias, j, &mut y[i * ldy + j..i * ldy + j + nr]);
            }
        }
        j += nr;
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
